/**
 * Host and ingest keys with rotation (issue 8). A stream holds the digests of its current keys;
 * a rotation moves the old digests to `retired_keys`, where they stay valid until the end of the
 * grace period and then stop. Only SHA-256 digests are stored; digests are compared in
 * constant time or looked up by an index (a lookup by the digest of a random key reveals nothing
 * usable about any other key).
 */
import type { Statement } from 'better-sqlite3';
import type { DB } from '../store/sqlite/db.js';
import type { Repo, StreamRow } from '../store/sqlite/repo.js';
import { generateKey, hashKey, safeEqual } from './keys.js';

export type KeyKind = 'host' | 'ingest';

interface Statements {
  retired: Statement;
  retire: Statement;
  forget: Statement;
  setKeys: Statement;
}

const cache = new WeakMap<DB, Statements>();
function statements(db: DB): Statements {
  let s = cache.get(db);
  if (!s) {
    s = {
      retired: db.prepare('SELECT stream_id, kind FROM retired_keys WHERE key_hash = ? AND expires_at > ?'),
      retire: db.prepare('INSERT OR REPLACE INTO retired_keys (key_hash, stream_id, kind, expires_at) VALUES (?, ?, ?, ?)'),
      forget: db.prepare('DELETE FROM retired_keys WHERE expires_at <= ?'),
      setKeys: db.prepare('UPDATE streams SET host_key_hash = ?, ingest_key_hash = ? WHERE id = ?'),
    };
    cache.set(db, s);
  }
  return s;
}

/** A rotated-out key still in its grace period: whose and which kind. */
function retired(repo: Repo, hash: string, now: number): { streamId: string; kind: KeyKind } | null {
  const r = statements(repo.db).retired.get(hash, now) as { stream_id: string; kind: KeyKind } | undefined;
  return r ? { streamId: r.stream_id, kind: r.kind } : null;
}

/** True when `key` is this stream's host key, current or rotated out less than its grace period ago. */
export function isHostKey(repo: Repo, stream: StreamRow, key: string, now = Date.now()): boolean {
  const hash = hashKey(key);
  if (safeEqual(hash, stream.hostKeyHash)) return true;
  const old = retired(repo, hash, now);
  return !!old && old.kind === 'host' && old.streamId === stream.id;
}

/** The stream whose ingest key (current or in grace) this is, or null. */
export function streamForIngestKey(repo: Repo, key: string, now = Date.now()): StreamRow | null {
  const hash = hashKey(key);
  const stream = repo.streamByIngestHash(hash);
  if (stream) return stream;
  const old = retired(repo, hash, now);
  return old?.kind === 'ingest' ? repo.getStream(old.streamId) : null;
}

/** True when `key` is some stream's host or ingest key (current or in grace): a wrong-kind key gets 403, not 401. */
export function isStreamKey(repo: Repo, key: string, now = Date.now()): boolean {
  const hash = hashKey(key);
  return !!(repo.streamByHostHash(hash) || repo.streamByIngestHash(hash) || retired(repo, hash, now));
}

export interface Rotated {
  hostKey: string;
  ingestKey: string;
  /** until when (ms since epoch) the previous keys keep working; null when they stopped at once */
  previousValidUntil: number | null;
}

/** New host and ingest keys for a stream; the old ones stay valid for `graceSeconds` (0: they stop now). */
export function rotateKeys(repo: Repo, stream: StreamRow, graceSeconds: number, now = Date.now()): Rotated {
  const s = statements(repo.db);
  const hostKey = generateKey('host');
  const ingestKey = generateKey('ingest');
  const until = graceSeconds > 0 ? now + graceSeconds * 1000 : null;
  repo.db.transaction(() => {
    s.forget.run(now);
    if (until !== null) {
      s.retire.run(stream.hostKeyHash, stream.id, 'host', until);
      s.retire.run(stream.ingestKeyHash, stream.id, 'ingest', until);
    }
    s.setKeys.run(hashKey(hostKey), hashKey(ingestKey), stream.id);
  })();
  return { hostKey, ingestKey, previousValidUntil: until };
}
