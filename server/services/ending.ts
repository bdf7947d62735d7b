/**
 * The end of a stream: by its host (`POST /v1/streams/:id/end`) or by itself once nobody has been
 * connected to it for a while. Each process marks the streams it has viewers in as active about
 * once a minute (one UPDATE), so "idle" means idle on every node, and a killed node's streams go
 * idle too. Ending is one conditional update in the store: of the processes that notice, one wins
 * and writes `stream.ended` (with the stream's report) to the webhook outbox in that transaction.
 *
 * An ended stream still takes late events and the merchant's late purchases (they count in its
 * numbers); it ends once, and a second end answers with the first one's time. The end also records
 * (in its transaction) each viewer's tier then and the stream's peak, which the channel overview
 * compares stream with stream.
 */
import type { StreamRow, Store } from '../store/types.js';
import { streamEnded } from '../webhooks/events.js';

export interface EndingDeps {
  store: Store;
  clock: () => number;
  /** the stream's report (the same document as GET /v1/streams/:id/report) */
  report: (stream: StreamRow) => Promise<Record<string, unknown>>;
  /** the streams with viewers connected to this process now */
  connectedStreams: () => Iterable<string>;
  /** nobody connected this long ends a stream (0: streams end only when told) */
  idleMs: number;
  onError: (err: unknown) => void;
}

/** how often the active streams are marked, and idle ones looked for */
export const ACTIVITY_EVERY_MS = 60_000;
const IDLE_BATCH = 20;

export class StreamEnds {
  private lastAt = 0;
  private running = false;

  constructor(private readonly deps: EndingDeps) {}

  /** ends the stream now; null: no such stream */
  async end(stream: StreamRow, by: 'host' | 'idle', now = this.deps.clock()): Promise<{ endedAt: number; now: boolean } | null> {
    if (stream.endedAt !== null) return { endedAt: stream.endedAt, now: false };
    const report = await this.deps.report(stream);
    // the peak is known only to the live dashboards: recorded with the end, for the channel overview
    const peak = typeof report.peakConnected === 'number' ? report.peakConnected : undefined;
    return this.deps.store.endStream(stream.id, now, (s) => streamEnded(s.channel, s.id, by, { ...report, endedAt: now }, now), peak);
  }

  /** called every second or so; does its work once a minute */
  async tick(now = this.deps.clock()): Promise<void> {
    if (this.running || now - this.lastAt < ACTIVITY_EVERY_MS) return;
    this.running = true;
    this.lastAt = now;
    try {
      await this.round(now);
    } catch (err) {
      this.deps.onError(err);
    } finally {
      this.running = false;
    }
  }

  /** marks this process's active streams, then ends those idle everywhere (the tests call it with their clock) */
  async round(now: number): Promise<void> {
    const { store, idleMs } = this.deps;
    const active = [...this.deps.connectedStreams()];
    if (active.length) await store.touchStreams(active, now);
    if (idleMs <= 0) return;
    const here = new Set(active);
    for (const s of await store.idleStreams(now - idleMs, IDLE_BATCH)) {
      if (here.has(s.id)) continue;
      await this.end(s, 'idle', now);
    }
  }
}
