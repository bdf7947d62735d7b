/**
 * Key checks for REST routes. Keys travel as `Authorization: Bearer <key>`.
 * 401: no key, or a key we do not know. 403: a valid key that is not for this resource. A
 * channel's read-only key is such a key everywhere but its own channel's overview (admin routes
 * included, which otherwise answer 401 to any key but the admin's).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearer, safeEqual } from '../auth/keys.js';
import type { StreamRow } from '../store/types.js';
// keys in their grace period after a rotation count too
import { isHostKey, isStreamKey, streamForIngestKey } from '../auth/streamKeys.js';
import { channelForKey } from '../auth/channelKeys.js';

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

const CHANNEL_KEY_HERE = "a channel key reads only its channel's overview (GET /v1/channels/:channel/overview)";

export async function requireAdmin(this: { config: { adminKey: string } } & any, req: FastifyRequest) {
  const key = bearer(req.headers.authorization);
  if (key && safeEqual(key, req.server.config.adminKey)) return;
  if (key && (await channelForKey(req.server.store, key))) throw forbidden(CHANNEL_KEY_HERE);
  throw unauthorized('this needs the admin key');
}

/** a valid key of another kind than the route takes: a stream's key, the admin's or a channel's */
async function isOtherKey(req: FastifyRequest, key: string): Promise<boolean> {
  return (await isStreamKey(req.server.store, key)) || safeEqual(key, req.server.config.adminKey) || !!(await channelForKey(req.server.store, key));
}

/**
 * The overview of the channel named in the path (`:channel`): the admin key, or that channel's
 * read-only key (current, or in its grace period after a rotation). Any other valid key (another
 * channel's, a stream's) gets 403.
 */
export async function requireChannelReader(req: FastifyRequest) {
  const key = bearer(req.headers.authorization);
  if (!key) throw unauthorized();
  if (safeEqual(key, req.server.config.adminKey)) return;
  const { channel } = req.params as { channel: string };
  const readable = await channelForKey(req.server.store, key);
  if (readable === channel) return;
  if (readable) throw forbidden("this key is another channel's key");
  if (await isStreamKey(req.server.store, key)) throw forbidden('this needs the admin key or the channel key, not a stream key');
  throw unauthorized();
}

/** The key must be the ingest key of some stream; the request then acts for that stream's channel. */
export async function requireIngest(req: FastifyRequest) {
  const key = bearer(req.headers.authorization);
  if (!key) throw unauthorized();
  const stream = await streamForIngestKey(req.server.store, key);
  if (!stream) {
    if (await isOtherKey(req, key)) throw forbidden('this needs an ingest key (from your backend), not a host, channel or admin key');
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
  if (await isOtherKey(req, key)) throw forbidden('this key is not the host key of this stream');
  throw unauthorized();
}
