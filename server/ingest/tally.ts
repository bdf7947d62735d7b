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
    likeEvents += count(d, ev.type, credit, ev.type === 'like' ? ev.data.count : undefined);
    if (ev.type === 'watch') t.lastCreditAt = now;
    else if (ev.type === 'offer_seen') t.seen.push(ev.data.offerId);
    else if (ev.type === 'offer_click') t.clicked.push(ev.data.offerId);
  }
  d.engWeighted = activityWeight({ ...d, likeEvents }, now); // recency-weighted engagement
  return t;
}

/**
 * What one new event adds to the counters `d`: the one place that knows how each type counts.
 * Returns the like events it adds (engagement points count like events, not like counts).
 */
function count(d: Deltas, type: string, creditMs: number | null, likeCount: number | undefined): number {
  switch (type) {
    case 'watch': d.watchMs += creditMs ?? 0; return 0;
    case 'comment': d.comments++; return 0;
    case 'like': d.likes += likeCount ?? 1; return 1;
    case 'product_view': d.productViews++; return 0;
    case 'add_to_cart': d.addToCarts++; return 0;
    case 'checkout': d.checkouts++; return 0;
    case 'purchase': d.browserPurchases++; return 0; // funnel only: never money
    default: return 0;
  }
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
    const one = zeroDeltas();
    const likeEvents = count(one, r.type, r.creditMs, r.type === 'like' && r.data ? (JSON.parse(r.data) as { count?: number }).count : undefined);
    for (const k of Object.keys(one) as (keyof Deltas)[]) d[k] += one[k];
    d.engWeighted += activityWeight({ ...one, likeEvents }, r.receivedAt);
  }
  return d;
}
