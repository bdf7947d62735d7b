/**
 * Key checks for REST routes. Keys travel as `Authorization: Bearer <key>`.
 * 401: no key, or a key we do not know. 403: a valid key that is not for this resource.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearer, safeEqual } from '../auth/keys.js';
import type { StreamRow } from '../store/types.js';
// keys in their grace period after a rotation count too
import { isHostKey, isStreamKey, streamForIngestKey } from '../auth/streamKeys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the stream whose key authenticated this request */
    keyStream: StreamRow | null;
  }
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const unauthorized = (msg = 'missing or unknown key: send Authorization: Bearer <key>') => new HttpError(401, 'unauthorized', msg);
export const forbidden = (msg: string) => new HttpError(403, 'forbidden', msg);
export const notFound = (msg: string) => new HttpError(404, 'not_found', msg);

export async function requireAdmin(this: { config: { adminKey: string } } & any, req: FastifyRequest) {
  const key = bearer(req.headers.authorization);
  if (!key || !safeEqual(key, req.server.config.adminKey)) throw unauthorized('this needs the admin key');
}

/** The key must be the ingest key of some stream; the request then acts for that stream's channel. */
export async function requireIngest(req: FastifyRequest) {
  const key = bearer(req.headers.authorization);
  if (!key) throw unauthorized();
  const stream = await streamForIngestKey(req.server.store, key);
  if (!stream) {
    if ((await isStreamKey(req.server.store, key)) || safeEqual(key, req.server.config.adminKey)) {
      throw forbidden('this needs an ingest key (from your backend), not a host or admin key');
    }
    throw unauthorized();
  }
  req.keyStream = stream;
}

/** The key must be the host key of the stream named in the path (`:id`). */
export async function requireHost(req: FastifyRequest, _reply: FastifyReply) {
  const key = bearer(req.headers.authorization);
  if (!key) throw unauthorized();
  const { id } = req.params as { id: string };
  const stream = await req.server.store.getStream(id);
  if (stream && (await isHostKey(req.server.store, stream, key))) {
    req.keyStream = stream;
    return;
  }
  if ((await isStreamKey(req.server.store, key)) || safeEqual(key, req.server.config.adminKey)) {
    throw forbidden('this key is not the host key of this stream');
  }
  if (!stream) throw unauthorized();
  throw unauthorized();
}
