/**
 * The lifecycle sweep's reads on SQLite (services/lifecycle-sweep.ts): the channels, and a page
 * of a channel's stored viewers (in primary-key order after a cursor) whose lifecycle time alone
 * may have moved.
 */
import type { DB } from './db.js';

export function createLifecycleReads(db: DB) {
  const channels = db.prepare('SELECT id FROM channels ORDER BY id');
  const currency = db.prepare('SELECT currency FROM channels WHERE id = ?');
  const claim = db.prepare('UPDATE channels SET currency = COALESCE(currency, ?) WHERE id = ? RETURNING currency');
  const due = db.prepare(`SELECT id, lifecycle, last_seen_at, last_purchase_at FROM viewers
    WHERE channel = @channel AND id > @after
      AND ((lifecycle IN ('new', 'active') AND last_seen_at < @seenBefore)
        OR (lifecycle <> 'lapsed' AND last_purchase_at IS NOT NULL AND last_purchase_at < @boughtBefore)
        OR (lifecycle = 'new' AND first_seen_at < @firstSeenBefore))
    ORDER BY id LIMIT @limit`);
  return {
    listChannels: (): string[] => (channels.all() as { id: string }[]).map((r) => r.id),
    /** (the channel's currency lives beside its id: issue 16) */
    getChannelCurrency: (channel: string): string | null => (currency.get(channel) as { currency: string | null } | undefined)?.currency ?? null,
    claimChannelCurrency: (channel: string, cur: string): string | null => (claim.get(cur, channel) as { currency: string } | undefined)?.currency ?? null,
    lifecycleDue: (channel: string, cut: { seenBefore: number; boughtBefore: number; firstSeenBefore: number }, after: string | null, limit: number) =>
      (due.all({ channel, after: after ?? '', limit, ...cut }) as any[]).map((r) => ({
        viewerId: r.id as string, lifecycle: r.lifecycle as string, lastSeenAt: r.last_seen_at as number, lastPurchaseAt: (r.last_purchase_at ?? null) as number | null,
      })),
  };
}
