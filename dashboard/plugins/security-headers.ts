// Security headers on every answer, and a content security policy that lets the web UI load only its own
// scripts, styles and images, talk only to this server (HTTP and the Socket.IO WebSocket), and never be
// framed. The UI needs no inline script or style element, so none is allowed.
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { IncomingMessage } from 'node:http';

// A Host header goes into the policy only when it is a plain host[:port]; anything else gets 'self' alone.
const PLAIN_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * CSP level 3 lets 'self' cover ws: and wss: on the page's own host, but older browsers do not, so the
 * Socket.IO WebSocket on this host is named explicitly.
 */
function sameHostWebSocket(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  if (!PLAIN_HOST.test(host)) return "'self'";
  const secure = (req as unknown as { socket: { encrypted?: boolean } }).socket.encrypted === true;
  return `${secure ? 'wss' : 'ws'}://${host}`;
}

export default fp(async function securityHeadersPlugin(app: FastifyInstance) {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        // Vite inlines small assets (icons, fonts, the alert sound) as data: URLs.
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", sameHostWebSocket],
        mediaSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Tells browsers not to send the page's address to other sites when following a link.
    referrerPolicy: { policy: 'no-referrer' },
  });
});
