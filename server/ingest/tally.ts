/**
 * What one batch of a viewer's events adds up to, and the one place that knows how each event
 * type counts. Pure: the store says which events are new (not duplicates of a stored event); the
 * tally credits watch time on the server's clock, sums the counters the viewer and the stream
 * rows keep, and lists the offer acknowledgements to record. Both stores call it inside their
 * ingest transaction, so the two write the same numbers.
 */
import type { ValidEvent } from './schema.js';
import { creditWatch } from './watch.js';
import { activityWeight } from '../tiering/state.js';
import { zeroDeltas, type Deltas } from '../store/types.js';

export interface StoredEvent {
  event: ValidEvent;
  /** credited watch time of a `watch` event, null for other types */
  creditMs: number | null;
  /** the event's data as stored (JSON), null when empty */
  data: string | null;
}

export interface Tally {
  /** the new events, in order, with what is stored for each */
  stored: StoredEvent[];
  duplicates: number;
  deltas: Deltas;
  /** the base of the next watch credit */
  lastCreditAt: number;
  /** offer ids the viewer's client saw / clicked */
  seen: string[];
  clicked: string[];
}

/**
 * Tallies `events` received at `now`. `isNew(event, creditMs, data)` is asked once per event in
 * order and answers whether it is stored now (SQLite answers by inserting it; PostgreSQL by a
 * lookup of the batch's keys). A duplicate adds nothing and does not move the watch-credit base.
 */
export function tally(
  events: readonly ValidEvent[],
  lastCreditAt: number,
  now: number,
  isNew: (ev: ValidEvent, creditMs: number | null, data: string | null) => boolean,
): Tally {
  const t: Tally = { stored: [], duplicates: 0, deltas: zeroDeltas(), lastCreditAt, seen: [], clicked: [] };
  const d = t.deltas;
  let likeEvents = 0; // engagement points count like events, not like counts
  for (const ev of events) {
    const credit = ev.type === 'watch' ? creditWatch(ev.data.engagedMs, t.lastCreditAt, now) : null;
    const data = ev.data && Object.keys(ev.data).length ? JSON.stringify(ev.data) : null;
    if (!isNew(ev, credit, data)) {
      t.duplicates++;
      continue;
    }
    t.stored.push({ event: ev, creditMs: credit, data });
    switch (ev.type) {
      case 'watch':
        t.lastCreditAt = now;
        d.watchMs += credit!;
        break;
      case 'comment': d.comments++; break;
      case 'like': d.likes += ev.data.count ?? 1; likeEvents++; break;
      case 'product_view': d.productViews++; break;
      case 'add_to_cart': d.addToCarts++; break;
      case 'checkout': d.checkouts++; break;
      case 'purchase': d.browserPurchases++; break; // funnel only: never money
      case 'offer_seen': t.seen.push(ev.data.offerId); break;
      case 'offer_click': t.clicked.push(ev.data.offerId); break;
    }
  }
  d.engWeighted = activityWeight({ ...d, likeEvents }, now); // recency-weighted engagement
  return t;
}

/** An event row as stored, with what its tally needed. */
export interface StoredRow {
  type: string;
  /** the stored JSON data, or null */
  data: string | null;
  creditMs: number | null;
  receivedAt: number;
}

/**
 * What stored event rows added to their viewer's counters when they were tallied: an alias takes
 * the anonymous copies of events the verified viewer also has back out of the anonymous counters
 * before it adds them to the verified viewer's, so nothing is counted twice. Every counter is a
 * sum over events, and the recency weight is linear in an event's points at its receipt time, so
 * each row's share is its own, whatever batch it came in.
 */
export function storedDeltas(rows: readonly StoredRow[]): Deltas {
  const d = zeroDeltas();
  for (const r of rows) {
    const one = { watchMs: 0, comments: 0, likes: 0, likeEvents: 0, productViews: 0, addToCarts: 0 };
    switch (r.type) {
      case 'watch': one.watchMs = r.creditMs ?? 0; break;
      case 'comment': one.comments = 1; break;
      case 'like': {
        const count = r.data ? (JSON.parse(r.data) as { count?: number }).count : undefined;
        one.likes = count ?? 1;
        one.likeEvents = 1;
        break;
      }
      case 'product_view': one.productViews = 1; break;
      case 'add_to_cart': one.addToCarts = 1; break;
      case 'checkout': d.checkouts++; break;
      case 'purchase': d.browserPurchases++; break;
    }
    d.watchMs += one.watchMs;
    d.comments += one.comments;
    d.likes += one.likes;
    d.productViews += one.productViews;
    d.addToCarts += one.addToCarts;
    d.engWeighted += activityWeight(one, r.receivedAt);
  }
  return d;
}
