/**
 * Cluster mode: several LiveTier processes (on one machine or many) serve one audience over one
 * PostgreSQL database and one Redis. The database holds every fact (events, money, caps); Redis
 * carries what the processes tell each other, through socket.io's own adapter:
 *
 * - **Presence shares.** Each process counts only the viewers connected to it. It writes its share
 *   of each stream (connected, by tier, by lifecycle) to the Redis hash `lt:live:<stream>` under its
 *   node id, every second and soon after a change; a host's summary adds up the shares younger than
 *   PRESENCE_TTL_MS, so a killed process's viewers drop out of the counts within that time. The
 *   stream's totals (audience, orders, GMV, offers) are read from the database.
 * - **The bus** (`io.serverSideEmit`, which the Redis adapter relays to the other processes):
 *   `changed` (a stream's host view changed, with its new activity lines), `viewers` (a viewer's tier
 *   or stored facts changed: processes holding their profile reload it, so every process shows the
 *   same tier), `forget` (erasure), `rules` (a channel's tier rules changed), and `send` (a push or a
 *   manual send: every process issues the campaign to its own connected viewers, the database
 *   keeping quotas and budgets exact, and answers with its counts).
 *
 * Without Redis there is one process: the bus has nobody to tell and the shares are the process's
 * own counts, so this module is not built at all.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Server } from 'socket.io';
import type { LifecycleCounts, StreamSummary, TierCounts } from '../realtime/events.js';
import type { Store } from '../store/types.js';
import type { ActivityEvent, Clock } from './hooks.js';
import type { LiveStreams, StreamLive } from './live.js';
import type { SendResult } from '../offers/service.js';

/** how often a process rewrites its presence shares */
export const PRESENCE_INTERVAL_MS = 1_000;
/** a share older than this is a process that stopped (killed, or cut off): it no longer counts */
export const PRESENCE_TTL_MS = 5_000;
/** changes are gathered this long before they go out on the bus (one message for many events) */
export const BUS_COALESCE_MS = 100;
/** stream totals read from the database are reused this long */
const TOTALS_TTL_MS = 250;

interface Share {
  connected: number;
  tiers: TierCounts;
  lifecycle: LifecycleCounts;
  at: number;
}

export interface ClusterHandlers {
  /** another process changed what hosts of these streams see */
  changed: (streamId: string, activity: ActivityEvent[]) => void;
  /** another process changed these viewers' stored facts or tier */
  viewers: (viewers: [channel: string, viewerId: string][]) => void;
  forget: (channel: string, viewerId: string) => void;
  rules: (channel: string) => void;
  /** another process asks this one to send a campaign to its own connected viewers */
  send: (streamId: string, campaignId: string) => Promise<SendResult>;
}

type Log = { warn: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };

const key = (streamId: string) => `lt:live:${streamId}`;

export class Cluster {
  readonly nodeId = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** streams whose change is waiting to go out, with their activity lines */
  private pendingStreams = new Map<string, ActivityEvent[]>();
  private pendingViewers = new Map<string, [string, string]>();
  /** streams this process has published a share for (so an emptied one is rewritten as zero) */
  private readonly published = new Set<string>();
  private readonly totals = new Map<string, { at: number; value: Promise<Awaited<ReturnType<Store['streamTotals']>>> }>();
  /** the last shares read per stream, used while Redis does not answer */
  private readonly lastShares = new Map<string, Share[]>();
  private stopped = false;

  constructor(
    private readonly deps: { io: Server; redis: Redis; store: Store; live: LiveStreams; clock: Clock; log: Log },
  ) {}

  start(handlers: ClusterHandlers) {
    const { io } = this.deps;
    io.on('lt:changed', (streams: { id: string; activity: ActivityEvent[] }[]) => {
      for (const s of streams) handlers.changed(s.id, s.activity);
    });
    io.on('lt:viewers', (viewers: [string, string][]) => handlers.viewers(viewers));
    io.on('lt:forget', (channel: string, viewerId: string) => handlers.forget(channel, viewerId));
    io.on('lt:rules', (channel: string) => handlers.rules(channel));
    io.on('lt:send', (streamId: string, campaignId: string, ack: (r: SendResult | { error: string }) => void) => {
      handlers.send(streamId, campaignId).then(ack, (err: Error) => {
        this.deps.log.error({ err, streamId, campaignId }, 'cluster send failed here');
        ack({ error: err.message });
      });
    });
    this.timer = setInterval(() => void this.publish(), PRESENCE_INTERVAL_MS);
    this.timer.unref();
  }

  async stop() {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.flushTimer);
    await this.flush();
    // this process's viewers leave the counts at once, not after the TTL
    await Promise.all([...this.published].map((id) => this.deps.redis.hdel(key(id), this.nodeId).catch(() => {})));
  }

  // ---------------------------------------------------------------- presence

  private share(live: StreamLive): Share {
    return { connected: live.present.size, tiers: { ...live.tiers }, lifecycle: { ...live.lifecycle }, at: this.deps.clock() };
  }

  /** writes this process's share of every stream it serves (or served: an emptied share is written as zero) */
  private async publish(only?: Iterable<string>) {
    if (this.stopped && !only) return;
    const { redis, live } = this.deps;
    const ids = only ? [...only] : [...new Set([...this.published, ...[...live.values()].filter((l) => l.present.size > 0).map((l) => l.stream.id)])];
    if (!ids.length) return;
    const multi = redis.multi();
    for (const id of ids) {
      const l = live.get(id);
      if (!l) continue;
      multi.hset(key(id), this.nodeId, JSON.stringify(this.share(l)));
      multi.pexpire(key(id), PRESENCE_TTL_MS * 6);
      if (l.present.size > 0) this.published.add(id);
      else this.published.delete(id);
    }
    try {
      await multi.exec();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'presence not published (Redis unavailable)');
    }
  }

  /** A stream's summary over every process: the live shares added up, the totals from the database. */
  async summary(live: StreamLive): Promise<StreamSummary> {
    const { redis, clock } = this.deps;
    const id = live.stream.id;
    const now = clock();
    let shares: Share[];
    try {
      const all = await redis.hgetall(key(id));
      shares = Object.entries(all)
        .filter(([node]) => node !== this.nodeId)
        .map(([, v]) => JSON.parse(v) as Share);
      this.lastShares.set(id, shares);
    } catch {
      shares = this.lastShares.get(id) ?? [];
    }
    const mine = this.share(live);
    const tiers: TierCounts = { ...mine.tiers };
    const lifecycle: LifecycleCounts = { ...mine.lifecycle };
    let connected = mine.connected;
    for (const s of shares) {
      if (now - s.at > PRESENCE_TTL_MS) continue;
      connected += s.connected;
      for (const t of Object.keys(tiers) as (keyof TierCounts)[]) tiers[t] += s.tiers[t] ?? 0;
      for (const l of Object.keys(lifecycle) as (keyof LifecycleCounts)[]) lifecycle[l] += s.lifecycle[l] ?? 0;
    }
    const totals = await this.streamTotals(id, now);
    return {
      streamId: id,
      title: live.stream.title,
      channel: live.stream.channel,
      tiers,
      connected,
      audience: totals.audience,
      orders: totals.orders,
      gmv: totals.gmv,
      offers: { ...totals.offers },
      lifecycle,
      updatedAt: now,
    };
  }

  private streamTotals(id: string, now: number) {
    const cached = this.totals.get(id);
    if (cached && now - cached.at < TOTALS_TTL_MS) return cached.value;
    const value = this.deps.store.streamTotals(id);
    this.totals.set(id, { at: now, value });
    value.catch(() => this.totals.delete(id));
    return value;
  }

  // ---------------------------------------------------------------- bus

  /** this process changed what the stream's hosts see: its share is rewritten, then the others are told */
  changed(streamId: string, activity?: ActivityEvent) {
    let items = this.pendingStreams.get(streamId);
    if (!items) this.pendingStreams.set(streamId, (items = []));
    if (activity) items.push(activity);
    this.totals.delete(streamId);
    this.schedule();
  }

  /** a viewer's stored facts or tier changed here */
  viewerChanged(channel: string, viewerId: string) {
    this.pendingViewers.set(`${channel}\u0000${viewerId}`, [channel, viewerId]);
    this.schedule();
  }

  forget(channel: string, viewerId: string) {
    this.deps.io.serverSideEmit('lt:forget', channel, viewerId);
  }

  rules(channel: string) {
    this.deps.io.serverSideEmit('lt:rules', channel);
  }

  /** asks every other process to send the campaign to its connected viewers; their answers */
  send(streamId: string, campaignId: string): Promise<SendResult[]> {
    return new Promise((resolve) => {
      // the adapter waits for every process it knows (its requestsTimeout, 5 s by default); a process
      // that did not answer in time (killed, or Redis away) leaves the answers of the others
      this.deps.io.serverSideEmit('lt:send', streamId, campaignId, (err: Error | null, responses: (SendResult | { error: string })[]) => {
        if (err) this.deps.log.warn({ streamId, campaignId, answered: responses?.length ?? 0, err: err.message }, 'not every process answered a send');
        resolve((responses ?? []).filter((a): a is SendResult => !!a && !('error' in a)));
      });
    });
  }

  private schedule() {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, BUS_COALESCE_MS);
    this.flushTimer.unref();
  }

  private async flush() {
    const streams = this.pendingStreams;
    const viewers = this.pendingViewers;
    this.pendingStreams = new Map();
    this.pendingViewers = new Map();
    if (viewers.size) this.deps.io.serverSideEmit('lt:viewers', [...viewers.values()]);
    if (streams.size) {
      // the share first, so a host elsewhere that updates on this message reads the new counts
      await this.publish(streams.keys());
      this.deps.io.serverSideEmit('lt:changed', [...streams].map(([id, activity]) => ({ id, activity })));
    }
  }
}
