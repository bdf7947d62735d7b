/**
 * Handshake checks for both namespaces. Failures reach the client as `connect_error` whose
 * `message` is a code from the closed set in events.ts and whose `data.message` says why.
 */
import type { Socket } from 'socket.io';
import { StoreUnavailableError, type Store, type StreamRow } from '../store/types.js';
import type { ErrorCode } from './events.js';
import { verifyViewerTokenWith } from '../auth/tokens.js';
import { isHostKey } from '../auth/streamKeys.js'; // rotated keys in their grace period count too

export const VIEWER_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
/** Anonymous (unverified) viewers live in their own id space, so nobody can claim a logged-in viewer's id without a token. */
export const ANON_PREFIX = 'anon:';

export function authError(code: ErrorCode, message: string): Error & { data: { code: ErrorCode; message: string } } {
  const err = new Error(code) as Error & { data: { code: ErrorCode; message: string } };
  err.data = { code, message };
  return err;
}

/** True when a browser origin may use this stream. No Origin header (non-browser clients, same-origin GETs) passes. */
export function originAllowed(stream: StreamRow, origin: string | undefined): boolean {
  if (!stream.allowedOrigins.length || !origin) return true;
  return stream.allowedOrigins.includes(origin);
}

export interface ViewerIdentity {
  stream: StreamRow;
  viewerId: string;
  verified: boolean;
}

export async function authenticateViewer(store: Store, auth: unknown, origin: string | undefined, now: number): Promise<ViewerIdentity> {
  const a = (auth ?? {}) as Record<string, unknown>;
  if (typeof a.streamId !== 'string' || !a.streamId) throw authError('bad_request', 'auth.streamId is required');
  const stream = await store.getStream(a.streamId);
  if (!stream) throw authError('not_found', `unknown stream ${a.streamId}`);
  if (!originAllowed(stream, origin)) throw authError('origin_not_allowed', `origin ${origin} is not allowed for this stream`);
  if (a.token !== undefined && a.token !== null && a.token !== '') {
    if (typeof a.token !== 'string') throw authError('unauthorized', 'auth.token must be a string');
    // the current secret, then a rotated-out one while its grace period runs
    const secrets = await store.getChannelSecrets(stream.channel, now);
    const claims = secrets ? verifyViewerTokenWith(secrets, stream.channel, a.token, now) : null;
    if (!claims) throw authError('unauthorized', 'invalid or expired viewer token');
    return { stream, viewerId: claims.sub, verified: true };
  }
  if (typeof a.viewerId !== 'string' || !VIEWER_ID_PATTERN.test(a.viewerId)) {
    throw authError('bad_request', 'auth.viewerId must be 1-128 characters of A-Z a-z 0-9 _ . : @ -');
  }
  const id = a.viewerId.startsWith(ANON_PREFIX) ? a.viewerId : ANON_PREFIX + a.viewerId;
  return { stream, viewerId: id, verified: false };
}

export async function authenticateHost(store: Store, auth: unknown): Promise<StreamRow> {
  const a = (auth ?? {}) as Record<string, unknown>;
  if (typeof a.streamId !== 'string' || !a.streamId) throw authError('bad_request', 'auth.streamId is required');
  if (typeof a.hostKey !== 'string' || !a.hostKey) throw authError('unauthorized', 'auth.hostKey is required');
  const stream = await store.getStream(a.streamId);
  if (!stream) throw authError('not_found', `unknown stream ${a.streamId}`);
  if (!(await isHostKey(store, stream, a.hostKey))) throw authError('unauthorized', 'wrong host key for this stream');
  return stream;
}

export const originOf = (socket: Socket) => socket.handshake.headers.origin;

/** The ack for a call that failed because the store is out of reach (null for any other failure). */
export function unavailable(err: unknown): { error: { code: 'unavailable'; message: string; retryAfterMs: number } } | null {
  if (!(err instanceof StoreUnavailableError)) return null;
  return { error: { code: 'unavailable', message: 'the database is unavailable; retry with the same ids', retryAfterMs: err.retryAfterMs } };
}

/** A handshake refused because the store is out of reach: the client retries. */
export function handshakeError(err: unknown): Error {
  return err instanceof StoreUnavailableError ? authError('unavailable', 'the database is unavailable; reconnect shortly') : (err as Error);
}
