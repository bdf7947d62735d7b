/**
 * The alias statements: `identify(viewerId, token)` links the history a browser made while
 * anonymous to the verified viewer, once per anonymous id, like Segment's `alias`.
 *
 * One transaction moves the anonymous viewer's events, per-stream counters (and the tiers recorded
 * at those streams' ends), channel counters and unredeemed offers onto the verified viewer, then records the link in `viewer_aliases`, so a
 * second call with the same anonymous id changes nothing. Purchases are never moved: money only
 * enters through the merchant's backend, which already names the real viewer.
 */
import type { DB } from './db.js';
import type { AliasResult } from '../types.js';
import { storedDeltas, type StoredRow } from '../../ingest/tally.js';

export type { AliasResult };

/** counters both rows keep, summed when both viewers have one */
const COUNTERS = ['watch_ms', 'comments', 'likes', 'product_views', 'add_to_carts'];
/** the viewer row also carries the weighted engagement the tier model reads */
const VIEWER_SUMS = [...COUNTERS, 'eng_weighted'];
const STREAM_SUMS = [...COUNTERS, 'checkouts', 'browser_purchases'];

const sums = (cols: string[]) => cols.map((c) => `${c} = ${c} + excluded.${c}`).join(', ');

const cache = new WeakMap<DB, ReturnType<typeof prepare>>();

function prepare(db: DB) {
  const inChannel = 'stream_id IN (SELECT id FROM streams WHERE channel = @channel)';
  return {
    linked: db.prepare('SELECT viewer_id FROM viewer_aliases WHERE channel = ? AND anon_id = ?'),
    link: db.prepare('INSERT INTO viewer_aliases (channel, anon_id, viewer_id, events, at) VALUES (@channel, @from, @into, @events, @now)'),
    viewer: db.prepare(`INSERT INTO viewers (channel, id, verified, ${VIEWER_SUMS.join(', ')}, first_seen_at, last_seen_at)
      SELECT channel, @into, 1, ${VIEWER_SUMS.join(', ')}, first_seen_at, last_seen_at FROM viewers WHERE channel = @channel AND id = @from
      ON CONFLICT (channel, id) DO UPDATE SET ${sums(VIEWER_SUMS)}, verified = 1,
        first_seen_at = MIN(first_seen_at, excluded.first_seen_at), last_seen_at = MAX(last_seen_at, excluded.last_seen_at)`),
    dropViewer: db.prepare('DELETE FROM viewers WHERE channel = @channel AND id = @from'),
    // the anonymous copies of events the verified viewer also has (a second tab, a beacon sent as
    // them): their share is taken out of the anonymous counters before those are added
    duplicates: db.prepare(`SELECT e.stream_id AS streamId, e.type, e.data, e.credit_ms AS creditMs, e.received_at AS receivedAt
      FROM events e WHERE e.viewer_id = @from AND ${inChannel}
        AND EXISTS (SELECT 1 FROM events x WHERE x.stream_id = e.stream_id AND x.viewer_id = @into AND x.id = e.id)`),
    takeBackStream: db.prepare(`UPDATE viewer_streams SET watch_ms = watch_ms - @watchMs, comments = comments - @comments,
      likes = likes - @likes, product_views = product_views - @productViews, add_to_carts = add_to_carts - @addToCarts,
      checkouts = checkouts - @checkouts, browser_purchases = browser_purchases - @browserPurchases
      WHERE stream_id = @streamId AND viewer_id = @from`),
    takeBackViewer: db.prepare(`UPDATE viewers SET watch_ms = watch_ms - @watchMs, comments = comments - @comments,
      likes = likes - @likes, product_views = product_views - @productViews, add_to_carts = add_to_carts - @addToCarts,
      eng_weighted = MAX(0, eng_weighted - @engWeighted) WHERE channel = @channel AND id = @from`),
    streams: db.prepare(`INSERT INTO viewer_streams (stream_id, viewer_id, ${STREAM_SUMS.join(', ')}, first_seen_at, last_seen_at)
      SELECT stream_id, @into, ${STREAM_SUMS.join(', ')}, first_seen_at, last_seen_at FROM viewer_streams WHERE viewer_id = @from AND ${inChannel}
      ON CONFLICT (stream_id, viewer_id) DO UPDATE SET ${sums(STREAM_SUMS)},
        first_seen_at = MIN(first_seen_at, excluded.first_seen_at), last_seen_at = MAX(last_seen_at, excluded.last_seen_at)`),
    dropStreams: db.prepare(`DELETE FROM viewer_streams WHERE viewer_id = @from AND ${inChannel}`),
    // events are keyed per viewer (stream_id, viewer_id, id): an event the browser resent as the
    // verified viewer is already there, so the anonymous copy is a duplicate and is dropped
    events: db.prepare(`UPDATE OR IGNORE events SET viewer_id = @into WHERE viewer_id = @from AND ${inChannel}`),
    dropEvents: db.prepare(`DELETE FROM events WHERE viewer_id = @from AND ${inChannel}`),
    // every unredeemed offer follows the viewer (nothing keys offers by campaign and viewer, so
    // none can collide); the per-viewer limits count them all from now on
    offers: db.prepare('UPDATE offers SET viewer_id = @into WHERE channel = @channel AND viewer_id = @from AND redeemed_at IS NULL'),
    // holdout assignments follow the viewer, so their later purchases count for the arm they were in
    // (one already assigned to the same campaign as the verified viewer keeps that arm)
    assignments: db.prepare('UPDATE OR IGNORE campaign_assignments SET viewer_id = @into WHERE channel = @channel AND viewer_id = @from'),
    // the tiers recorded at the end of the streams it watched follow the viewer, as its per-stream
    // rows do (where the verified viewer has one for that stream, theirs stays and the anonymous one goes)
    tiers: db.prepare('UPDATE OR IGNORE stream_tiers SET viewer_id = @into WHERE channel = @channel AND viewer_id = @from'),
    dropTiers: db.prepare('DELETE FROM stream_tiers WHERE channel = @channel AND viewer_id = @from'),
  };
}

/** Merges anonymous viewer `from` into verified viewer `into` in `channel`, once per `from`. */
export function mergeViewers(db: DB, channel: string, from: string, into: string, now: number): AliasResult {
  let s = cache.get(db);
  if (!s) cache.set(db, (s = prepare(db)));
  const q = s;
  return db.transaction((): AliasResult => {
    const before = q.linked.get(channel, from) as { viewer_id: string } | undefined;
    if (before) return { merged: false, viewerId: before.viewer_id, events: 0 };
    const p = { channel, from, into };
    takeBackDuplicates(q, p);
    q.viewer.run(p);
    q.dropViewer.run(p);
    q.streams.run(p);
    q.dropStreams.run(p);
    const events = q.events.run(p).changes;
    q.dropEvents.run(p);
    q.offers.run(p);
    q.assignments.run(p);
    q.tiers.run(p);
    q.dropTiers.run(p);
    q.link.run({ ...p, events, now });
    return { merged: true, viewerId: into, events };
  })();
}

/** takes the share of the anonymous copies of events the verified viewer also has out of the anonymous counters */
function takeBackDuplicates(q: ReturnType<typeof prepare>, p: { channel: string; from: string; into: string }) {
  const rows = q.duplicates.all(p) as (StoredRow & { streamId: string })[];
  if (!rows.length) return;
  const byStream = new Map<string, StoredRow[]>();
  for (const r of rows) byStream.set(r.streamId, [...(byStream.get(r.streamId) ?? []), r]);
  for (const [streamId, list] of byStream) {
    const { engWeighted: _w, ...d } = storedDeltas(list);
    q.takeBackStream.run({ ...d, streamId, from: p.from });
  }
  const { checkouts: _c, browserPurchases: _b, ...d } = storedDeltas(rows);
  q.takeBackViewer.run({ ...d, channel: p.channel, from: p.from });
}
