import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests start real servers on free ports; two cores do not gain from more forks.
    maxWorkers: 2,
    // One influxd for every file that only needs a working one (test/influxd-global.ts).
    globalSetup: ['test/influxd-global.ts'],
    allowOnly: false,
    passWithNoTests: false,
  },
});
