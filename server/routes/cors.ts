/**
 * CORS for the host-key REST routes under `/v1/streams/:id/`, so a `<livetier-host-panel>` embedded
 * in the streamer's own page (another origin than the server) can read its top viewers and
 * campaigns and pause or resume them. The same rule as the sockets: a stream with
 * `allowedOrigins` answers only those origins; a stream without accepts any. Only the
 * `authorization` and `content-type` headers are allowed and no credentials: the host key travels
 * as a bearer header, never as a cookie, so a page that does not hold the key gains nothing.
 * Every other path (the merchant API, admin routes) gets no CORS headers; `/v1/collect` sets its
 * own (the beacon's CORS-simple POST needs no preflight).
 */
import cors from '@fastify/cors';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { originAllowed } from '../realtime/auth.js';

const STREAM_PATH = /^\/v1\/streams\/([^/?#]+)\//;
/** preflight answers are cached by the browser this long (seconds) */
const PREFLIGHT_MAX_AGE = 600;

export const corsRoutes = fp(async (app: FastifyInstance) => {
  await app.register(cors, {
    delegator: (req, done) => {
      const origin = req.headers.origin;
      const m = origin ? STREAM_PATH.exec(req.url) : null;
      let id: string | undefined;
      try {
        id = m ? decodeURIComponent(m[1]!) : undefined;
      } catch {
        // a malformed escape: the route itself answers 400 or 404
      }
      if (!id) return done(null, { origin: false });
      app.store.getStream(id).then(
        (stream) => {
          if (!stream || !originAllowed(stream, origin)) return done(null, { origin: false });
          done(null, {
            origin: true, // reflects the request's origin (never `*`), with `Vary: Origin`
            methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
            allowedHeaders: ['authorization', 'content-type'],
            maxAge: PREFLIGHT_MAX_AGE,
          });
        },
        (err) => done(err as Error),
      );
    },
  });
});
