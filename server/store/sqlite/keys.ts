/**
 * The key-rotation statements. A stream holds the SHA-256 digests of its current host and ingest
 * keys; a rotation moves the old digests to `retired_keys`, where each stays valid until the end
 * of its grace period, and writes the new digests, in one transaction. Only digests are stored.
 */
import type { DB } from './db.js';
import type { KeyKind } from '../types.js';

export type { KeyKind };

export type KeyStore = ReturnType<typeof createKeyStore>;

export function createKeyStore(db: DB) {
  const s = {
    current: db.prepare('SELECT host_key_hash, ingest_key_hash FROM streams WHERE id = ?'),
    retired: db.prepare('SELECT stream_id, kind FROM retired_keys WHERE key_hash = ? AND expires_at > ?'),
    retire: db.prepare('INSERT OR REPLACE INTO retired_keys (key_hash, stream_id, kind, expires_at) VALUES (?, ?, ?, ?)'),
    // digests past their grace period are of no use to anyone: each rotation sweeps them
    forget: db.prepare('DELETE FROM retired_keys WHERE expires_at <= ?'),
    setKeys: db.prepare('UPDATE streams SET host_key_hash = ?, ingest_key_hash = ? WHERE id = ?'),
  };

  return {
    /** a rotated-out key still in its grace period at `now`: whose, and which kind */
    retiredKey(hash: string, now: number): { streamId: string; kind: KeyKind } | null {
      const r = s.retired.get(hash, now) as { stream_id: string; kind: KeyKind } | undefined;
      return r ? { streamId: r.stream_id, kind: r.kind } : null;
    },
    /**
     * Replaces a stream's key digests. The replaced ones (read here, inside the transaction, so two
     * rotations at once each retire what they replaced) stay valid until `until`; with `until`
     * null they stop now. Keys retired by an earlier rotation keep their own grace period.
     * Returns false for an unknown stream.
     */
    rotate(streamId: string, next: { hostKeyHash: string; ingestKeyHash: string }, until: number | null, now: number): boolean {
      return db.transaction((): boolean => {
        const cur = s.current.get(streamId) as { host_key_hash: string; ingest_key_hash: string } | undefined;
        if (!cur) return false;
        s.forget.run(now);
        if (until !== null && until > now) {
          s.retire.run(cur.host_key_hash, streamId, 'host', until);
          s.retire.run(cur.ingest_key_hash, streamId, 'ingest', until);
        }
        s.setKeys.run(next.hostKeyHash, next.ingestKeyHash, streamId);
        return true;
      })();
    },
  };
}
