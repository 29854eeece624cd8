// The web console's build: a Vue 3 single-page app compiled into dashboard/web/dist, which
// dashboard/plugins/web.ts serves. In development, `vite --config dashboard/web/vite.config.ts` proxies the
// API and Socket.IO to a running `anju serve` on ANJU_HTTP_URL (default http://127.0.0.1:8080).
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const target = process.env.ANJU_HTTP_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One small app: a single chunk keeps the page to three requests.
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/api': target,
      '/socket.io': { target, ws: true },
    },
  },
});
