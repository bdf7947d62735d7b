/**
 * The ingest pipeline: a viewer's socket joins and leaves a stream, and batches of its events
 * are committed through the group-commit writer (acked only after the commit). After each
 * commit the live state and the viewer's profile learn what was stored, the viewer is
 * re-tiered, and the watch milestones the batch crossed run (their jobs were written with it;
 * carts wait in the database for the tick: jobs/due.ts).
 */
import type { IngestJob, IngestResult, Store } from '../store/types.js';
import type { ValidEvent } from '../ingest/schema.js';
import type { TrackAck } from '../realtime/events.js';
import { GroupCommitWriter } from '../ingest/writer.js';
import { addActivity, addCheckout, noActivity, offerEngaged, seen } from '../tiering/state.js';
import type { Clock, Hooks } from './hooks.js';
import type { LiveStreams } from './live.js';
import type { Tiering } from './tiering.js';
import type { OfferService } from '../offers/service.js';
import type { Jobs } from './jobs.js';

export interface IngestDeps {
  store: Store;
  clock: Clock;
  live: LiveStreams;
  tiering: Tiering;
  hooks: Hooks;
  campaigns: () => OfferService;
  jobs: Jobs;
  onError?: (err: unknown) => void;
}

type TrackJob = Extract<IngestJob, { kind: 'track' }>;

export class Ingest {
  readonly writer: GroupCommitWriter<IngestJob, IngestResult>;

  constructor(private readonly deps: IngestDeps) {
    this.writer = new GroupCommitWriter<IngestJob, IngestResult>((jobs) => this.commit(jobs), {
      afterCommit: async (jobs, results) => {
        for (let i = 0; i < jobs.length; i++) await this.after(jobs[i]!, results[i]!);
      },
      onError: deps.onError,
    });
  }

  /**
   * Commits a batch. A track job's watch credit starts from the viewer's presence as it is at
   * commit time (not when the job was queued), so a viewer's track calls queued together are
   * committed in separate store calls, each after the previous one moved the credit base.
   */
  private async commit(jobs: IngestJob[]): Promise<IngestResult[]> {
    const results: IngestResult[] = [];
    let start = 0;
    while (start < jobs.length) {
      const seenKeys = new Set<string>();
      let end = start;
      for (; end < jobs.length; end++) {
        const j = jobs[end]!;
        if (j.kind !== 'track') continue;
        const k = `${j.streamId}\u0000${j.viewerId}`;
        if (seenKeys.has(k)) break;
        seenKeys.add(k);
      }
      const chunk = jobs.slice(start, end);
      for (const j of chunk) {
        if (j.kind === 'track') j.lastCreditAt = this.presence(j)?.lastCreditAt ?? j.now;
        else if (j.kind === 'reasons') this.deps.tiering.committing(j);
      }
      const out = await this.deps.store.ingest(chunk);
      chunk.forEach((j, i) => {
        const pres = j.kind === 'track' ? this.presence(j) : undefined;
        if (pres) pres.lastCreditAt = out[i]!.lastCreditAt;
      });
      results.push(...out);
      start = end;
    }
    return results;
  }

  private presence(j: TrackJob) {
    return this.deps.live.get(j.streamId)?.present.get(j.viewerId);
  }

  /** A viewer's socket joined a stream. Resolves after the visit is committed. */
  async join(streamId: string, viewerId: string, verified: boolean): Promise<void> {
    const live = await this.deps.live.require(streamId);
    // loaded here, in parallel with other joins, rather than one by one after the commit
    await this.deps.tiering.profile(live.stream.channel, viewerId);
    await this.writer.submit({ kind: 'join', streamId, channel: live.stream.channel, viewerId, verified, now: this.deps.clock() });
  }

  leave(streamId: string, viewerId: string) {
    const live = this.deps.live.get(streamId);
    const pres = live?.present.get(viewerId);
    if (!live || !pres) return;
    if (--pres.sockets > 0) return;
    live.present.delete(viewerId);
    const p = this.deps.tiering.cached(live.stream.channel, viewerId);
    if (p) {
      p.streams.delete(streamId);
      live.tiers[p.tier]--;
      live.lifecycle[p.lifecycle]--;
    }
    this.deps.hooks.changed(streamId);
  }

  /** Persists a batch of valid events from one viewer; resolves after the commit. */
  async track(streamId: string, viewerId: string, events: ValidEvent[]): Promise<Pick<TrackAck, 'accepted' | 'duplicates'>> {
    const live = await this.deps.live.require(streamId);
    if (events.length === 0) return { accepted: 0, duplicates: 0 };
    // what the batch arms in the database for the stream's waiting campaigns (carts, watch milestones)
    const triggers = await this.deps.campaigns().triggers(live.stream);
    const now = this.deps.clock();
    const r = await this.writer.submit({
      kind: 'track', streamId, channel: live.stream.channel, viewerId, events, now, lastCreditAt: now, ...(triggers ? { triggers } : {}),
    });
    return { accepted: r.accepted.length, duplicates: r.duplicates };
  }

  /** a client acknowledged an offer: recorded with the next commit */
  delivered(offerId: string, at: number): Promise<unknown> {
    return this.writer.submit({ kind: 'delivered', offerId, now: at });
  }

  private async after(job: IngestJob, res: IngestResult) {
    if (job.kind === 'delivered' || job.kind === 'reasons') return;
    const { live: lives, tiering, hooks } = this.deps;
    const live = lives.get(job.streamId);
    if (!live) return;
    const p = await tiering.profile(job.channel, job.viewerId);
    if (job.kind === 'join') {
      let pres = live.present.get(job.viewerId);
      if (!pres) {
        pres = { sockets: 0, lastCreditAt: job.now };
        live.present.set(job.viewerId, pres);
        p.streams.add(job.streamId);
        // a viewer first seen now: the profile (loaded before the row existed) takes the row's time
        if (!p.stored) {
          p.firstSeenAt = job.now;
          p.stored = true;
        }
        seen(p, job.now);
        // counted under the tier the profile holds now, then moved by the re-tier like any change
        live.tiers[p.tier]++;
        live.lifecycle[p.lifecycle]++;
        await tiering.retier(p, job.now, []); // joining is not an entry into a tier: no campaign fires
      }
      pres.sockets++;
      if (res.firstTime) live.audience++;
      hooks.changed(job.streamId);
      return;
    }
    if (!res.accepted.length) return;
    // the profile learns what was committed
    const a = noActivity();
    a.watchMs = res.watchCredited;
    for (const ev of res.accepted) {
      if (ev.type === 'comment') {
        a.comments++;
        hooks.activity(job.streamId, { type: 'comment', at: job.now, viewerId: job.viewerId, text: ev.data.text });
      } else if (ev.type === 'like') (a.likes += ev.data.count ?? 1), a.likeEvents++;
      else if (ev.type === 'product_view') a.productViews++;
      else if (ev.type === 'add_to_cart') a.addToCarts++;
      else if (ev.type === 'checkout') addCheckout(p, job.now);
      else if (ev.type === 'offer_click') offerEngaged(p, ev.data.offerId);
    }
    addActivity(p, a, job.now);
    await tiering.retier(p, job.now, [job.streamId]);
    // a watch milestone this batch crossed (its job was written with the batch and is ours to run);
    // carts wait in the database for the tick
    for (const due of res.due ?? []) await this.deps.jobs.run(due, job.now);
    hooks.changed(job.streamId);
  }
}
