/**
 * The lifecycle sweep's reads on PostgreSQL (services/lifecycle-sweep.ts): the channels, and a
 * keyset page of a channel's stored viewers whose lifecycle time alone may have moved.
 */
import type { Store } from '../types.js';
import type { Db } from './pool.js';

export function lifecycleOps(db: Db): Pick<Store, 'listChannels' | 'lifecycleDue' | 'getChannelCurrency' | 'claimChannelCurrency'> {
  return {
    // (the channel's currency lives beside its id: issue 16)
    async getChannelCurrency(channel) {
      const { rows } = await db.query<{ currency: string | null }>('SELECT currency FROM channels WHERE id = $1', [channel]);
      return rows[0]?.currency ?? null;
    },
    async claimChannelCurrency(channel, currency) {
      const { rows } = await db.query<{ currency: string }>('UPDATE channels SET currency = COALESCE(currency, $2) WHERE id = $1 RETURNING currency', [channel, currency]);
      return rows[0]?.currency ?? null;
    },
    async listChannels() {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM channels ORDER BY id');
      return rows.map((r) => r.id);
    },
    async lifecycleDue(channel, cut, after, limit) {
      const { rows } = await db.query(
        `SELECT id, lifecycle, last_seen_at, last_purchase_at FROM viewers
         WHERE channel = $1 AND ($2::text IS NULL OR id > $2)
           AND ((lifecycle IN ('new', 'active') AND last_seen_at < $3)
             OR (lifecycle <> 'lapsed' AND last_purchase_at IS NOT NULL AND last_purchase_at < $4)
             OR (lifecycle = 'new' AND first_seen_at < $5))
         ORDER BY id LIMIT $6`,
        [channel, after, cut.seenBefore, cut.boughtBefore, cut.firstSeenBefore, limit],
      );
      return rows.map((r: any) => ({ viewerId: r.id, lifecycle: r.lifecycle, lastSeenAt: Number(r.last_seen_at), lastPurchaseAt: r.last_purchase_at === null ? null : Number(r.last_purchase_at) }));
    },
  };
}
