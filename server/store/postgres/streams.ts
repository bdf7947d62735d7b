/**
 * Channels, their tier rules, streams and their keys (auth/streamKeys.ts: rotation with a grace
 * period), and the totals a stream's live state starts from.
 */
import type { Store } from '../types.js';
import type { Db } from './pool.js';
import { streamFrom } from './rows.js';

type StreamOps = Pick<Store,
  | 'getChannelSecret' | 'getChannelSecrets' | 'rotateChannelSecret' | 'channelExists' | 'getRules' | 'setRules'
  | 'createStream' | 'getStream' | 'streamByIngestHash' | 'streamByHostHash' | 'retiredKey' | 'rotateKeys'
  | 'streamTotals' | 'audience' | 'countEvents'>;

export function streamOps(db: Db): StreamOps {
  const one = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows[0];
  const stream = async (sql: string, params: unknown[]) => {
    const r = await one(sql, params);
    return r ? streamFrom(r) : null;
  };

  return {
    async getChannelSecret(channel) {
      return (await one('SELECT token_secret FROM channels WHERE id = $1', [channel]))?.token_secret ?? null;
    },
    async getChannelSecrets(channel, now) {
      const r = await one('SELECT token_secret, previous_token_secret, previous_valid_until FROM channels WHERE id = $1', [channel]);
      if (!r) return null;
      const live = r.previous_token_secret !== null && r.previous_valid_until !== null && Number(r.previous_valid_until) > now;
      return { current: r.token_secret, previous: live ? r.previous_token_secret : null };
    },
    /** one statement: the row lock makes two rotations at once each move the secret they replace */
    async rotateChannelSecret(channel, newSecret, previousValidUntil, now) {
      // a grace period that has already ended keeps nothing
      const until = previousValidUntil !== null && previousValidUntil > now ? previousValidUntil : null;
      const r = await db.query(
        `UPDATE channels SET previous_token_secret = CASE WHEN $2::bigint IS NULL THEN NULL ELSE token_secret END,
           previous_valid_until = $2::bigint, token_secret = $3 WHERE id = $1`,
        [channel, until, newSecret],
      );
      return r.rowCount === 1;
    },
    async channelExists(channel) {
      return !!(await one('SELECT 1 FROM channels WHERE id = $1', [channel]));
    },
    async getRules(channel) {
      const r = await one('SELECT doc FROM channel_rules WHERE channel = $1', [channel]);
      return r ? JSON.parse(r.doc) : null;
    },
    async setRules(channel, doc, now) {
      await db.query(
        `INSERT INTO channel_rules (channel, doc, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (channel) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`,
        [channel, JSON.stringify(doc), now],
      );
    },

    createStream(s, channelSecret) {
      return db.tx(async (c) => {
        await c.query('INSERT INTO channels (id, token_secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [
          s.channel, channelSecret, s.createdAt,
        ]);
        const r = await c.query(
          `INSERT INTO streams (id, channel, title, allowed_origins, host_key_hash, ingest_key_hash, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
          [s.id, s.channel, s.title, JSON.stringify(s.allowedOrigins), s.hostKeyHash, s.ingestKeyHash, s.createdAt],
        );
        return r.rowCount === 1;
      });
    },
    getStream: (id) => stream('SELECT * FROM streams WHERE id = $1', [id]),
    streamByIngestHash: (hash) => stream('SELECT * FROM streams WHERE ingest_key_hash = $1', [hash]),
    streamByHostHash: (hash) => stream('SELECT * FROM streams WHERE host_key_hash = $1', [hash]),
    async retiredKey(hash, now) {
      const r = await one('SELECT stream_id, kind FROM retired_keys WHERE key_hash = $1 AND expires_at > $2', [hash, now]);
      return r ? { streamId: r.stream_id, kind: r.kind } : null;
    },
    /** the stream row is locked, so two rotations at once retire each key exactly once */
    rotateKeys(streamId, next, until, now) {
      return db.tx(async (c) => {
        const cur = (await c.query('SELECT host_key_hash, ingest_key_hash FROM streams WHERE id = $1 FOR UPDATE', [streamId])).rows[0];
        if (!cur) return;
        await c.query('DELETE FROM retired_keys WHERE expires_at <= $1', [now]);
        if (until !== null) {
          // INSERT OR REPLACE in SQLite
          await c.query(
            `INSERT INTO retired_keys (key_hash, stream_id, kind, expires_at) VALUES ($1, $3, 'host', $4), ($2, $3, 'ingest', $4)
             ON CONFLICT (key_hash) DO UPDATE SET stream_id = excluded.stream_id, kind = excluded.kind, expires_at = excluded.expires_at`,
            [cur.host_key_hash, cur.ingest_key_hash, streamId, until],
          );
        }
        await c.query('UPDATE streams SET host_key_hash = $1, ingest_key_hash = $2 WHERE id = $3', [next.hostKeyHash, next.ingestKeyHash, streamId]);
      });
    },

    async streamTotals(streamId) {
      const r = await one(
        `SELECT (SELECT COUNT(*) FROM viewer_streams WHERE stream_id = $1) AS audience,
           s.orders, s.gmv, o.issued, o.delivered, o.redeemed
         FROM (SELECT COUNT(*) AS orders, COALESCE(SUM(amount - refunded), 0) AS gmv FROM purchases WHERE stream_id = $1) s,
           (SELECT COUNT(*) AS issued, COUNT(delivered_at) AS delivered, COUNT(redeemed_at) AS redeemed FROM offers WHERE stream_id = $1) o`,
        [streamId],
      );
      return { audience: r.audience, orders: r.orders, gmv: r.gmv, offers: { issued: r.issued, delivered: r.delivered, redeemed: r.redeemed } };
    },
    async audience(streamId) {
      return (await one('SELECT COUNT(*) AS n FROM viewer_streams WHERE stream_id = $1', [streamId])).n;
    },
    async countEvents(streamId) {
      return (await one('SELECT COUNT(*) AS n FROM events WHERE stream_id = $1', [streamId])).n;
    },
  };
}
