/**
 * Host and ingest keys with rotation. A stream holds the digests of its current keys; a rotation
 * moves the old digests aside, where they stay valid until the end of the grace period and then
 * stop. Only SHA-256 digests are stored; digests are compared in constant time or looked up by
 * an index (a lookup by the digest of a random key reveals nothing usable about any other key).
 */
import type { KeyKind, Store, StreamRow } from '../store/types.js';
import { generateKey, graceUntil, hashKey, safeEqual } from './keys.js';

export type { KeyKind };

/** True when `key` is this stream's host key, current or rotated out less than its grace period ago. */
export async function isHostKey(store: Store, stream: StreamRow, key: string, now = Date.now()): Promise<boolean> {
  const hash = hashKey(key);
  if (safeEqual(hash, stream.hostKeyHash)) return true;
  const old = await store.retiredKey(hash, now);
  return !!old && old.kind === 'host' && old.streamId === stream.id;
}

/** The stream whose ingest key (current or in grace) this is, or null. */
export async function streamForIngestKey(store: Store, key: string, now = Date.now()): Promise<StreamRow | null> {
  const hash = hashKey(key);
  const stream = await store.streamByIngestHash(hash);
  if (stream) return stream;
  const old = await store.retiredKey(hash, now);
  return old?.kind === 'ingest' ? store.getStream(old.streamId) : null;
}

/** True when `key` is some stream's host or ingest key (current or in grace): a wrong-kind key gets 403, not 401. */
export async function isStreamKey(store: Store, key: string, now = Date.now()): Promise<boolean> {
  const hash = hashKey(key);
  return !!((await store.streamByHostHash(hash)) || (await store.streamByIngestHash(hash)) || (await store.retiredKey(hash, now)));
}

export interface Rotated {
  hostKey: string;
  ingestKey: string;
  /** until when (ms since epoch) the previous keys keep working; null when they stopped at once */
  previousValidUntil: number | null;
}

/** New host and ingest keys for a stream; the old ones stay valid for `graceSeconds` (0: they stop now). */
export async function rotateKeys(store: Store, stream: StreamRow, graceSeconds: number, now = Date.now()): Promise<Rotated> {
  const hostKey = generateKey('host');
  const ingestKey = generateKey('ingest');
  const until = graceUntil(graceSeconds, now);
  await store.rotateKeys(stream.id, { hostKeyHash: hashKey(hostKey), ingestKeyHash: hashKey(ingestKey) }, until, now);
  return { hostKey, ingestKey, previousValidUntil: until };
}
