/**
 * `ingest`: one group-commit batch of jobs in one transaction, with a handful of multi-row
 * statements (arrays through UNNEST) rather than a statement per event, since a round trip to
 * the database costs far more than the row it carries.
 *
 * Dedup. Events are partitioned by day (partitions.ts), and a unique index of a partitioned table
 * must include the partition key, so (stream_id, viewer_id, id) is unique per day partition, not
 * across the table. The batch therefore first looks up which of its keys are already stored among
 * the events received in the last DEDUP_WINDOW_DAYS (the lookup reads only those partitions), and
 * tallies and inserts only the others with `INSERT … ON CONFLICT DO NOTHING RETURNING`. The
 * per-partition unique index catches a concurrent insert of the same key by another server on the
 * same day: such an event lost the race, counts as a duplicate and adds nothing (the tally is
 * recomputed from what was actually inserted). The trade-off: an SDK resending an event more than
 * DEDUP_WINDOW_DAYS after it was first received, or two servers inserting the same key at the very
 * moment a day ends, would store it twice. The SDK resends within seconds, so a week is ample; in
 * exchange retention drops whole days and no insert pays for a table-wide index.
 *
 * Order. Jobs apply in order and one viewer may appear in several jobs of a batch. The jobs are cut
 * into runs in which no row (a viewer, a viewer's stream row, an offer) is touched by two jobs; a
 * run's jobs touch distinct rows, so applying a run's joins, then its tracks, then the rest, is the
 * same as applying its jobs one by one. A typical batch is one run.
 */
import type { IngestJob, IngestResult } from '../types.js';
import { tally, type Tally } from '../../ingest/tally.js';
import type { Db, Sql } from './pool.js';
import { DAY_MS, dayStart, type Partitions } from './partitions.js';
import { columns } from './rows.js';
import { cartJob, cartJobId, JOB_LEASE_MS, trackWrites, watchJob, type NewJob } from '../../jobs/due.js';
import { armJobs, createJobs, removeJobs } from './jobs.js';
import { fanOut } from './webhooks.js';

/** days of stored events a new event is checked against (besides its own day) */
export const DEDUP_WINDOW_DAYS = 7;

type Track = Extract<IngestJob, { kind: 'track' }>;
type Join = Extract<IngestJob, { kind: 'join' }>;
type Delivered = Extract<IngestJob, { kind: 'delivered' }>;
type Reasons = Extract<IngestJob, { kind: 'reasons' }>;

/** joins the parts of a key; no PostgreSQL text value can contain it */
const SEP = '\u0000';
const key = (...parts: string[]) => parts.join(SEP);
const split = (k: string) => k.split(SEP);

/** `ts` is the client's clock and only informative: keep it a valid BIGINT whatever a client claims */
const clientTs = (ts: number) => (Number.isFinite(ts) ? Math.min(Math.max(Math.floor(ts), 0), Number.MAX_SAFE_INTEGER) : 0);

export async function ingest(db: Db, partitions: Partitions, jobs: IngestJob[]): Promise<IngestResult[]> {
  const times: number[] = [];
  for (const j of jobs) if (j.kind === 'track' && j.events.length) times.push(j.now);
  // DDL stays out of the batch's transaction (it locks the whole events table)
  if (times.length) await partitions.cover(times);
  return db.tx((c) => applyBatch(c, jobs));
}

async function applyBatch(c: Sql, jobs: IngestJob[]): Promise<IngestResult[]> {
  await sharedCreditBase(c, jobs);
  const existing = await storedKeys(c, jobs);
  let tallies = tallyAll(jobs, (k) => !existing.has(k));
  const { inserted, candidates } = await insertEvents(c, jobs, tallies);
  if (inserted.size < candidates) {
    // another server stored some of these keys first: they are duplicates, and the watch credit of
    // the events after them may change (the credit base only moves on a stored heartbeat)
    const actual = tallyAll(jobs, (k) => inserted.has(k));
    await fixCredits(c, jobs, tallies, actual);
    tallies = actual;
  }

  // a join is the base of the viewer's next watch credit in the stream; jobs other than tracks and joins credit nothing (0)
  const results: IngestResult[] = jobs.map((j) => ({ accepted: [], duplicates: 0, watchCredited: 0, lastCreditAt: j.kind === 'join' ? j.now : 0 }));
  for (const run of runs(jobs, tallies)) await applyRun(c, jobs, run, tallies, results);
  tallies.forEach((t, i) => {
    Object.assign(results[i]!, {
      accepted: t.stored.map((s) => s.event),
      duplicates: t.duplicates,
      watchCredited: t.deltas.watchMs,
      lastCreditAt: t.lastCreditAt,
    });
  });
  await writeTriggers(c, jobs, results);
  return results;
}

/**
 * The waiting triggers the batch's tracks arm, close or create (jobs/due.ts), in its transaction:
 * a viewer's cart job follows their last cart event of the batch; a watch job is created for a
 * credit that crossed a milestone (from the stream row's stored total, so of two servers
 * crediting one viewer, exactly one crosses it), claimed for this server to run now.
 */
async function writeTriggers(c: Sql, jobs: IngestJob[], results: IngestResult[]) {
  const carts = new Map<string, NewJob | null>();
  const watches: [number, NewJob][] = [];
  jobs.forEach((j, i) => {
    const r = results[i]!;
    if (j.kind !== 'track' || !j.triggers || !r.accepted.length) return;
    const w = trackWrites(r.accepted, r.watchCredited, r.streamWatchMs ?? 0, j.triggers);
    if (w.cart === 'arm') carts.set(cartJobId(j.channel, j.viewerId), cartJob(j.channel, j.streamId, j.viewerId, j.now, j.triggers.cartDelayMs!));
    else if (w.cart === 'close') carts.set(cartJobId(j.channel, j.viewerId), null);
    if (w.watch) watches.push([i, watchJob(j.channel, j.streamId, j.viewerId, j.now, w.watch)]);
  });
  const armed = [...carts.values()].filter((x): x is NewJob => x !== null);
  await armJobs(c, armed);
  await removeJobs(c, [...carts].filter(([, x]) => x === null).map(([id]) => id));
  if (!watches.length) return;
  const now = Math.max(...watches.map(([, w]) => w.armedAt));
  const created = new Map((await createJobs(c, watches.map(([, w]) => w), now + JOB_LEASE_MS)).map((x) => [x.id, x]));
  for (const [i, w] of watches) {
    const row = created.get(w.id);
    if (row) (results[i]!.due ??= []).push(row);
  }
}

/**
 * The watch credit base is kept in memory by the server a viewer's socket is on, and stored with
 * the viewer's stream row: a viewer with tabs on two servers is credited from the later of the two,
 * so the same time is never credited twice. The rows are locked (in key order) for the batch, so
 * two servers' heartbeats for one viewer take turns.
 */
async function sharedCreditBase(c: Sql, jobs: IngestJob[]) {
  const watching = jobs.filter((j): j is Track => j.kind === 'track' && j.events.some((e) => e.type === 'watch'));
  if (!watching.length) return;
  const pairs = [...new Set(watching.map((j) => key(j.streamId, j.viewerId)))].sort().map(split);
  const { rows } = await c.query<{ stream_id: string; viewer_id: string; last_credit_at: number }>(
    `SELECT vs.stream_id, vs.viewer_id, vs.last_credit_at FROM viewer_streams vs
     JOIN UNNEST($1::text[], $2::text[]) AS u(stream_id, viewer_id) ON vs.stream_id = u.stream_id AND vs.viewer_id = u.viewer_id
     ORDER BY vs.stream_id, vs.viewer_id
     FOR UPDATE OF vs`,
    columns(pairs, 2),
  );
  const stored = new Map(rows.map((r) => [key(r.stream_id, r.viewer_id), r.last_credit_at]));
  // jobs of one viewer in one batch chain their bases (tally moves it); the first starts from the shared one
  const first = new Set<string>();
  for (const j of watching) {
    const k = key(j.streamId, j.viewerId);
    if (first.has(k)) continue;
    first.add(k);
    j.lastCreditAt = Math.max(j.lastCreditAt, stored.get(k) ?? 0);
  }
}

/** the batch's event keys already stored among the recent days */
async function storedKeys(c: Sql, jobs: IngestJob[]): Promise<Set<string>> {
  const keys = new Set<string>();
  let oldest = Infinity;
  for (const j of jobs) {
    if (j.kind !== 'track' || !j.events.length) continue;
    oldest = Math.min(oldest, j.now);
    for (const ev of j.events) keys.add(key(j.streamId, j.viewerId, ev.id));
  }
  const found = new Set<string>();
  if (!keys.size) return found;
  // the keys travel as one JSON parameter: JSON.stringify and PostgreSQL's JSON parser are far
  // cheaper than pg's encoding of three text arrays of thousands of elements
  const list = JSON.stringify([...keys].map(split));
  // whole days, so the condition selects whole partitions (the DEFAULT one is always read)
  const since = dayStart(oldest) - DEDUP_WINDOW_DAYS * DAY_MS;
  // One index probe per key and partition (LATERAL … LIMIT 1 keeps the planner from a hash join,
  // which would scan whole partitions: it prefers one while today's partition is young and has no
  // statistics, and that made the check grow from 25 to 200 ms per batch within seconds).
  const { rows } = await c.query<{ stream_id: string; viewer_id: string; id: string }>(
    `SELECT k.stream_id, k.viewer_id, k.id
     FROM (SELECT r->>0 AS stream_id, r->>1 AS viewer_id, r->>2 AS id FROM json_array_elements($1::json) AS j(r)) AS k
     CROSS JOIN LATERAL (
       SELECT 1 FROM events e
       WHERE e.stream_id = k.stream_id AND e.viewer_id = k.viewer_id AND e.id = k.id AND e.received_at >= $2
       LIMIT 1) AS hit`,
    [list, since],
  );
  for (const r of rows) found.add(key(r.stream_id, r.viewer_id, r.id));
  return found;
}

/**
 * Tallies every track job in order. An event is new when `eligible` says so for its key and no
 * earlier event of the batch (this job's or an earlier job's) took the key.
 */
function tallyAll(jobs: IngestJob[], eligible: (k: string) => boolean): Map<number, Tally> {
  const taken = new Set<string>();
  const out = new Map<number, Tally>();
  jobs.forEach((j, i) => {
    if (j.kind !== 'track') return;
    out.set(i, tally(j.events, j.lastCreditAt, j.now, (ev) => {
      const k = key(j.streamId, j.viewerId, ev.id);
      if (taken.has(k) || !eligible(k)) return false;
      taken.add(k);
      return true;
    }));
  });
  return out;
}

/** inserts the tallied events in batch order (seq is arrival order); returns the keys actually inserted */
async function insertEvents(c: Sql, jobs: IngestJob[], tallies: Map<number, Tally>) {
  const rows: unknown[][] = [];
  tallies.forEach((t, i) => {
    const j = jobs[i] as Track;
    for (const s of t.stored) {
      rows.push([j.streamId, s.event.id, j.viewerId, s.event.type, clientTs(s.event.ts), j.now, s.creditMs, s.data]);
    }
  });
  const inserted = new Set<string>();
  if (!rows.length) return { inserted, candidates: 0 };
  // one row comes back: how many went in, and only when some did not (a race lost), which ones did
  const res = await c.query<{ n: number; keys: [string, string, string][] | null }>(
    `WITH ins AS (
       INSERT INTO events (stream_id, id, viewer_id, type, client_ts, received_at, credit_ms, data)
       SELECT r->>0, r->>1, r->>2, r->>3, (r->>4)::bigint, (r->>5)::bigint, (r->>6)::bigint, r->>7
       FROM json_array_elements($1::json) WITH ORDINALITY AS u(r, n)
       ORDER BY n
       ON CONFLICT DO NOTHING
       RETURNING stream_id, viewer_id, id)
     SELECT COUNT(*) AS n, CASE WHEN COUNT(*) < $2 THEN json_agg(json_build_array(stream_id, viewer_id, id)) END AS keys FROM ins`,
    [JSON.stringify(rows), rows.length], // one JSON parameter (see storedKeys)
  );
  const { n, keys } = res.rows[0]!;
  if (keys) for (const [st, v, i] of keys) inserted.add(key(st, v, i));
  else if (n === rows.length) for (const r of rows) inserted.add(key(r[0] as string, r[2] as string, r[1] as string));
  return { inserted, candidates: rows.length };
}

/** after a lost race: the stored heartbeats whose credit the recomputed tally changed */
async function fixCredits(c: Sql, jobs: IngestJob[], before: Map<number, Tally>, after: Map<number, Tally>) {
  const fixes: unknown[][] = [];
  after.forEach((t, i) => {
    const j = jobs[i] as Track;
    const was = new Map(before.get(i)!.stored.map((s) => [s.event.id, s.creditMs]));
    for (const s of t.stored) {
      if (s.creditMs !== was.get(s.event.id)) fixes.push([j.streamId, j.viewerId, s.event.id, j.now, s.creditMs]);
    }
  });
  if (!fixes.length) return;
  await c.query(
    `UPDATE events e SET credit_ms = u.credit_ms
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS u(stream_id, viewer_id, id, received_at, credit_ms)
     WHERE e.stream_id = u.stream_id AND e.viewer_id = u.viewer_id AND e.id = u.id AND e.received_at = u.received_at`,
    columns(fixes, 5),
  );
}

/** the rows a job writes: a viewer (v), a viewer's stream row (s), an offer (o) */
function rowsOf(j: IngestJob, t: Tally | undefined): string[] {
  switch (j.kind) {
    case 'join':
      return [key('v', j.channel, j.viewerId), key('s', j.streamId, j.viewerId)];
    case 'track':
      if (!t?.stored.length) return []; // all duplicates: writes nothing
      return [key('v', j.channel, j.viewerId), key('s', j.streamId, j.viewerId), ...[...t.seen, ...t.clicked].map((id) => key('o', id))];
    case 'delivered':
      return [key('o', j.offerId)];
    case 'reasons':
      return [key('v', j.channel, j.viewerId)];
  }
}

/** cuts the jobs into runs in which no row is written by two jobs */
function runs(jobs: IngestJob[], tallies: Map<number, Tally>): number[][] {
  const out: number[][] = [];
  let run: number[] = [];
  let touched = new Set<string>();
  jobs.forEach((j, i) => {
    const rows = rowsOf(j, tallies.get(i));
    if (rows.some((r) => touched.has(r))) {
      out.push(run);
      run = [];
      touched = new Set();
    }
    run.push(i);
    for (const r of rows) touched.add(r);
  });
  if (run.length) out.push(run);
  return out;
}

async function applyRun(c: Sql, jobs: IngestJob[], run: number[], tallies: Map<number, Tally>, results: IngestResult[]) {
  const joins: number[] = [];
  const tracks: number[] = [];
  const delivered: Delivered[] = [];
  const reasons: Reasons[] = [];
  for (const i of run) {
    const j = jobs[i]!;
    if (j.kind === 'join') joins.push(i);
    else if (j.kind === 'track') {
      if (tallies.get(i)!.stored.length) tracks.push(i);
    } else if (j.kind === 'delivered') delivered.push(j);
    else reasons.push(j);
  }
  if (joins.length) await applyJoins(c, joins.map((i) => jobs[i] as Join), joins.map((i) => results[i]!));
  if (tracks.length) await applyTracks(c, tracks.map((i) => [jobs[i] as Track, tallies.get(i)!] as const), tracks.map((i) => results[i]!));
  if (delivered.length) {
    await c.query(
      `UPDATE offers o SET delivered_at = u.now FROM UNNEST($1::text[], $2::bigint[]) AS u(id, now)
       WHERE o.id = u.id AND o.delivered_at IS NULL`,
      [delivered.map((j) => j.offerId), delivered.map((j) => j.now)],
    );
  }
  if (reasons.length) {
    await c.query(
      `UPDATE viewers v SET tier = u.tier, reasons = u.reasons, lifecycle = COALESCE(u.lifecycle, v.lifecycle)
       FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(channel, id, tier, reasons, lifecycle)
       WHERE v.channel = u.channel AND v.id = u.id`,
      columns(reasons.map((j) => [j.channel, j.viewerId, j.tier, JSON.stringify(j.explain), j.lifecycle ?? null]), 5),
    );
    // the tier and lifecycle changes these writes store, for the merchant's systems, in this transaction
    const events = reasons.flatMap((j) => j.webhooks ?? []);
    if (events.length) await fanOut(c, events);
  }
}

/**
 * A viewer was seen in a stream (repo.ts touchViewer): the viewer row is created or its last_seen
 * and verified move up; the stream row likewise. `firstTime` is whether this inserted the stream
 * row (ON CONFLICT DO NOTHING waits for a concurrent insert by another server, so exactly one
 * server reports the first time); `streamWatchMs` is the stream row's credited watch time.
 */
async function applyJoins(c: Sql, joins: Join[], results: IngestResult[]) {
  // rows are written in key order, so two servers' batches lock shared rows in the same order
  await c.query(
    `INSERT INTO viewers (channel, id, verified, first_seen_at, last_seen_at)
     SELECT channel, id, verified, now, now
     FROM UNNEST($1::text[], $2::text[], $3::smallint[], $4::bigint[]) AS u(channel, id, verified, now)
     ORDER BY channel, id
     ON CONFLICT (channel, id) DO UPDATE SET last_seen_at = GREATEST(viewers.last_seen_at, excluded.last_seen_at),
       verified = GREATEST(viewers.verified, excluded.verified)`,
    columns(joins.map((j) => [j.channel, j.viewerId, j.verified ? 1 : 0, j.now]), 4),
  );
  const fresh = await c.query<{ stream_id: string; viewer_id: string }>(
    `INSERT INTO viewer_streams (stream_id, viewer_id, first_seen_at, last_seen_at)
     SELECT stream_id, viewer_id, now, now FROM UNNEST($1::text[], $2::text[], $3::bigint[]) AS u(stream_id, viewer_id, now)
     ORDER BY stream_id, viewer_id
     ON CONFLICT (stream_id, viewer_id) DO NOTHING
     RETURNING stream_id, viewer_id`,
    columns(joins.map((j) => [j.streamId, j.viewerId, j.now]), 3),
  );
  const inserted = new Set(fresh.rows.map((r) => key(r.stream_id, r.viewer_id)));
  const seenBefore = joins.filter((j) => !inserted.has(key(j.streamId, j.viewerId)));
  const watch = new Map<string, number>();
  if (seenBefore.length) {
    const { rows } = await c.query<{ stream_id: string; viewer_id: string; watch_ms: number }>(
      `UPDATE viewer_streams vs SET last_seen_at = GREATEST(vs.last_seen_at, u.now)
       FROM UNNEST($1::text[], $2::text[], $3::bigint[]) AS u(stream_id, viewer_id, now)
       WHERE vs.stream_id = u.stream_id AND vs.viewer_id = u.viewer_id
       RETURNING vs.stream_id, vs.viewer_id, vs.watch_ms`,
      columns(seenBefore.map((j) => [j.streamId, j.viewerId, j.now]), 3),
    );
    for (const r of rows) watch.set(key(r.stream_id, r.viewer_id), r.watch_ms);
  }
  joins.forEach((j, n) => {
    const k = key(j.streamId, j.viewerId);
    results[n]!.firstTime = inserted.has(k);
    results[n]!.streamWatchMs = watch.get(k) ?? 0;
  });
}

/** what the tallies add (repo.ts addDeltas), and the offers the viewers' clients saw or clicked (markSeen, markClicked) */
async function applyTracks(c: Sql, tracks: (readonly [Track, Tally])[], results: IngestResult[]) {
  await c.query(
    `UPDATE viewers v SET watch_ms = v.watch_ms + d.watch_ms, comments = v.comments + d.comments, likes = v.likes + d.likes,
       product_views = v.product_views + d.product_views, add_to_carts = v.add_to_carts + d.add_to_carts,
       eng_weighted = v.eng_weighted + d.eng_weighted, last_seen_at = GREATEST(v.last_seen_at, d.now)
     FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::float8[], $9::bigint[])
       AS d(channel, viewer_id, watch_ms, comments, likes, product_views, add_to_carts, eng_weighted, now)
     WHERE v.channel = d.channel AND v.id = d.viewer_id`,
    columns(tracks.map(([j, { deltas: d }]) => [
      j.channel, j.viewerId, d.watchMs, d.comments, d.likes, d.productViews, d.addToCarts, d.engWeighted, j.now,
    ]), 9),
  );
  const streams = await c.query(
    `UPDATE viewer_streams vs SET watch_ms = vs.watch_ms + d.watch_ms, comments = vs.comments + d.comments, likes = vs.likes + d.likes,
       product_views = vs.product_views + d.product_views, add_to_carts = vs.add_to_carts + d.add_to_carts,
       checkouts = vs.checkouts + d.checkouts, browser_purchases = vs.browser_purchases + d.browser_purchases,
       last_seen_at = GREATEST(vs.last_seen_at, d.now), last_credit_at = GREATEST(vs.last_credit_at, d.credit_base)
     FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
       AS d(stream_id, viewer_id, watch_ms, comments, likes, product_views, add_to_carts, checkouts, browser_purchases, now, credit_base)
     WHERE vs.stream_id = d.stream_id AND vs.viewer_id = d.viewer_id
     RETURNING vs.stream_id, vs.viewer_id, vs.watch_ms`,
    columns(tracks.map(([j, t]) => {
      const d = t.deltas;
      // a batch that credited a heartbeat moved the base to its `now`; otherwise the base stays
      const base = t.stored.some((s) => s.event.type === 'watch') ? t.lastCreditAt : 0;
      return [j.streamId, j.viewerId, d.watchMs, d.comments, d.likes, d.productViews, d.addToCarts, d.checkouts, d.browserPurchases, j.now, base];
    }), 11),
  );
  // the stream's credited total after this batch (a run holds one job per stream row)
  const watch = new Map(streams.rows.map((r) => [key(r.stream_id, r.viewer_id), r.watch_ms as number]));
  tracks.forEach(([j, t], n) => {
    if (t.deltas.watchMs > 0) results[n]!.streamWatchMs = watch.get(key(j.streamId, j.viewerId)) ?? 0;
  });
  // Within one job every acknowledgement has the same `now`, so seen-then-clicked and
  // clicked-then-seen leave the same columns: all seen updates, then all clicked ones.
  const acks = (pick: (t: Tally) => string[]) =>
    tracks.flatMap(([j, t]) => [...new Set(pick(t))].map((id) => [id, j.channel, j.viewerId, j.now]));
  const seen = acks((t) => t.seen);
  if (seen.length) {
    await c.query(
      `UPDATE offers o SET seen_at = u.now, delivered_at = COALESCE(o.delivered_at, u.now)
       FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(id, channel, viewer_id, now)
       WHERE o.id = u.id AND o.channel = u.channel AND o.viewer_id = u.viewer_id AND o.seen_at IS NULL`,
      columns(seen, 4),
    );
  }
  const clicked = acks((t) => t.clicked);
  if (clicked.length) {
    await c.query(
      `UPDATE offers o SET clicked_at = u.now, seen_at = COALESCE(o.seen_at, u.now), delivered_at = COALESCE(o.delivered_at, u.now)
       FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(id, channel, viewer_id, now)
       WHERE o.id = u.id AND o.channel = u.channel AND o.viewer_id = u.viewer_id AND o.clicked_at IS NULL`,
      columns(clicked, 4),
    );
  }
}
