/**
 * The audience simulator: real socket.io viewers and a merchant backend, driven through the public
 * contract only, so it works against any running LiveTier server.
 *
 *   npm run simulate -- --server http://127.0.0.1:8080 --stream demo --ingest-key KEY [--host-key KEY]
 *                       [--admin-key KEY] [--viewers 40] [--minutes 0] [--speed 1] [--mix 0.05,0.30]
 *                       [--holdout 0] [--quiet] [--json]
 *
 * Personas, after the live-commerce playbook:
 * - loyal: a small share of high spenders who come back, comment, and buy often (big baskets);
 * - deal: a larger price-sensitive share who buy when a deal reaches them (an offer or a host push);
 * - watcher: the many who watch, like and chat a lot but rarely buy.
 * Viewers leave after a few minutes and new ones arrive; a share of the arrivals are returning
 * viewers (same id), so purchases accumulate and tiers climb. Offers are redeemed the way a shop
 * does it: a verified purchase through `POST /v1/purchases` carrying the `couponCode`. Viewers a
 * campaign holds back get no offer, so they buy only as they would have anyway: with `--holdout`
 * on the stream's campaigns, the host panel measures each campaign's uplift.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { OfferPayload, TrackEvent } from '../server/realtime/events.js';

export type Persona = 'loyal' | 'deal' | 'watcher';

export interface Options {
  server: string;
  stream: string;
  ingestKey: string;
  hostKey?: string;
  viewers: number;
  /** wall-clock minutes to run; 0 runs until stopped */
  minutes: number;
  /** time compression: 10 makes every pause ten times shorter (tests, quick looks) */
  speed: number;
  /** shares of loyal and deal viewers; the rest are watchers */
  mix: { loyal: number; deal: number };
  /**
   * with `hostKey`: the share (percent, 1–90) of viewers held back by each of the stream's campaigns
   * that holds back none, set once at start; 0 (default) leaves the campaigns as they are
   */
  holdout?: number;
  quiet: boolean;
}

export interface SimStats {
  joined: number;
  returning: number;
  events: number;
  acked: number;
  purchases: number;
  gmv: number;
  offers: number;
  redeemed: number;
  pushes: number;
  errors: number;
  personas: Record<Persona, number>;
}

const SKUS = [
  { sku: 'TEA-01', name: 'Longjing green tea', price: 12_800 },
  { sku: 'CUP-02', name: 'Celadon cup set', price: 26_800 },
  { sku: 'SILK-03', name: 'Silk scarf', price: 45_900 },
];
const COMMENTS = [
  '好看!', 'How much is shipping?', '这个颜色太美了', 'Just bought one!', 'Is the scarf 100% silk?', '主播好',
  'love this', 'more tea please', '有优惠券吗?', 'Show the cup set again', '已下单', 'What size is the scarf?',
];

/** What each persona does per tick (one tick every 2-4 s of simulated time). */
const BEHAVIOUR: Record<Persona, { comment: number; like: number; view: number; cart: number; buy: number; offerTake: number; maxOrders: number; basket: [number, number] }> = {
  loyal: { comment: 0.2, like: 0.2, view: 0.15, cart: 0.4, buy: 0.08, offerTake: 0.5, maxOrders: 4, basket: [40_000, 90_000] },
  deal: { comment: 0.06, like: 0.1, view: 0.12, cart: 0.3, buy: 0.003, offerTake: 0.6, maxOrders: 2, basket: [9_900, 30_000] },
  watcher: { comment: 0.3, like: 0.25, view: 0.05, cart: 0.1, buy: 0.001, offerTake: 0.05, maxOrders: 1, basket: [9_900, 20_000] },
};

const rand = (a: number, b: number) => a + Math.random() * (b - a);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Returning {
  id: string;
  persona: Persona;
  orders: number;
}

export class Simulator {
  private seq = 0;
  private stopped = false;
  private viewers = new Set<SimViewer>();
  private departed: Returning[] = [];
  private timers: NodeJS.Timeout[] = [];
  private hostSocket?: Socket;
  private finished!: () => void;
  /** resolves once the simulator has stopped (after `--minutes`, or `stop()`) */
  readonly done = new Promise<void>((r) => (this.finished = r));
  readonly stats: SimStats = { joined: 0, returning: 0, events: 0, acked: 0, purchases: 0, gmv: 0, offers: 0, redeemed: 0, pushes: 0, errors: 0, personas: { loyal: 0, deal: 0, watcher: 0 } };
  /** offers received, by id: a re-delivery (an offer pushed while its viewer was joining, then sent again as pending) counts once */
  readonly offerIds = new Set<string>();

  constructor(readonly opts: Options) {}

  log(msg: string) {
    if (!this.opts.quiet) process.stdout.write(`[simulator] ${msg}\n`);
  }

  /** A pause of `ms` simulated milliseconds. */
  pause(ms: number) {
    return sleep(ms / this.opts.speed);
  }

  async api(path: string, body: unknown, key: string, method = 'POST') {
    const res = await fetch(this.opts.server + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), authorization: `Bearer ${key}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => ({}))) as any;
    if (res.status >= 400) throw new Error(`${path}: ${res.status} ${json.message ?? ''}`);
    return json;
  }

  persona(): Persona {
    const r = Math.random();
    const { loyal, deal } = this.opts.mix;
    return r < loyal ? 'loyal' : r < loyal + deal ? 'deal' : 'watcher';
  }

  async start() {
    if (this.opts.hostKey && this.opts.holdout) {
      try {
        await this.holdBack(this.opts.hostKey, this.opts.holdout);
      } catch (err) {
        this.stats.errors++;
        this.log(`could not set the campaigns' holdout: ${(err as Error).message}`);
      }
    }
    if (this.opts.hostKey) this.scheduleHostPushes();
    if (this.opts.minutes > 0) this.timers.push(setTimeout(() => void this.stop(), this.opts.minutes * 60_000));
    this.timers.push(
      setInterval(() => {
        const s = this.stats;
        this.log(`${this.viewers.size} viewers · ${s.acked}/${s.events} events acked · ${s.purchases} purchases · ${s.offers} offers · ${s.redeemed} redeemed · ${s.errors} errors`);
      }, 15_000),
    );
    // arrivals ramp up over the first seconds rather than all at once
    for (let i = 0; i < this.opts.viewers && !this.stopped; i++) {
      void this.spawn();
      await this.pause(rand(50, 250));
    }
  }

  /**
   * Each campaign of the stream that holds no viewers back now holds back `percent` of them, so its
   * uplift can be measured (the host panel's campaign table); a holdout someone set stays as it is.
   */
  private async holdBack(hostKey: string, percent: number) {
    const base = `/v1/streams/${encodeURIComponent(this.opts.stream)}/campaigns`;
    const { campaigns } = (await this.api(`${base}?adhoc=false`, undefined, hostKey, 'GET')) as { campaigns: { id: string; name: string; holdoutPercent: number }[] };
    for (const c of campaigns) {
      if (c.holdoutPercent > 0) continue;
      await this.api(`${base}/${encodeURIComponent(c.id)}`, { holdoutPercent: percent }, hostKey, 'PATCH');
      this.log(`campaign "${c.name}" now holds back ${percent}% of its viewers`);
    }
  }

  private scheduleHostPushes() {
    const hostSocket = io(`${this.opts.server}/host`, { auth: { streamId: this.opts.stream, hostKey: this.opts.hostKey }, transports: ['websocket'], forceNew: true });
    hostSocket.on('connect_error', (err: any) => this.log(`host socket refused: ${err.data?.message ?? err.message}`));
    const pushes = [
      { tier: 'potential', offer: { title: 'Flash deal: 10% off your first order', discount: { kind: 'percent', value: 10 }, ttlSeconds: 180 } },
      { tier: 'mid', offer: { title: 'Mid-stream special: ¥50 off ¥299', discount: { kind: 'amount', value: 5000 }, minSpend: 29_900, ttlSeconds: 300 } },
      { tier: 'potential', offer: { title: 'Just for watchers: ¥15 off today', discount: { kind: 'amount', value: 1500 }, minSpend: 9_900, ttlSeconds: 120 } },
      { tier: 'high', offer: { title: 'VIP early access: 20% off the silk scarf', discount: { kind: 'percent', value: 20 }, ttlSeconds: 600 } },
    ];
    let n = 0;
    const push = async () => {
      if (this.stopped) return;
      // each push holds a fifth of the tier back, so its uplift can be measured (the panel's Pushes log)
      const p = { ...pushes[n++ % pushes.length]!, holdoutPercent: 20 };
      try {
        const ack = await hostSocket.timeout(5000).emitWithAck('push', p);
        this.stats.pushes++;
        this.log(`host pushed "${p.offer.title}" to ${p.tier}: ${JSON.stringify(ack)}`);
      } catch (err) {
        this.stats.errors++;
        this.log(`host push failed: ${(err as Error).message}`);
      }
    };
    // every 30 s, watchers every other time: a newcomer sees a deal within about a minute
    this.timers.push(setTimeout(push, 15_000 / this.opts.speed), setInterval(push, 30_000 / this.opts.speed));
    this.hostSocket = hostSocket;
  }

  async spawn() {
    if (this.stopped) return;
    // about one arrival in four is someone who watched before and comes back
    const back = this.departed.length > 0 && Math.random() < 0.25 ? this.departed.splice(Math.floor(Math.random() * this.departed.length), 1)[0]! : null;
    const v = back
      ? new SimViewer(this, back.id, back.persona, back.orders)
      : new SimViewer(this, `sim-${Date.now().toString(36)}-${(this.seq++).toString(36)}`, this.persona());
    if (back) this.stats.returning++;
    else this.stats.personas[v.persona]++;
    this.viewers.add(v);
    try {
      await v.run();
    } catch (err) {
      this.stats.errors++;
      this.log(`viewer ${v.id} failed: ${(err as Error).message}`);
    }
    this.viewers.delete(v);
    if (this.stopped) return;
    this.departed.push({ id: v.id, persona: v.persona, orders: v.orders });
    if (this.departed.length > 1000) this.departed.shift();
    this.timers.push(setTimeout(() => void this.spawn(), rand(500, 5000) / this.opts.speed)); // churn: someone arrives
  }

  async stop() {
    if (this.stopped) return this.done;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.viewers].map((v) => v.leave()));
    this.hostSocket?.close();
    this.log(`stopped: ${JSON.stringify(this.stats)}`);
    this.finished();
    return this.done;
  }

  get running() {
    return !this.stopped;
  }
}

class SimViewer {
  private socket?: Socket;
  private pending: TrackEvent[] = [];
  private purchases = new Set<Promise<void>>();
  private left = false;
  /** The `track` call waiting for its ack, if any: leave() lets it finish so its count is not lost. */
  private inflight: Promise<void> | undefined;
  private done!: () => void;

  constructor(
    private readonly sim: Simulator,
    readonly id: string,
    readonly persona: Persona,
    public orders = 0,
  ) {}

  async run() {
    const { server, stream, ingestKey } = this.sim.opts;
    const { token } = await this.sim.api('/v1/viewer-tokens', { viewerId: this.id }, ingestKey);
    if (this.left) return;
    const socket = io(`${server}/viewer`, { auth: { streamId: stream, viewerId: this.id, token }, transports: ['websocket'], autoConnect: false, forceNew: true });
    this.socket = socket;
    socket.on('offer', (offer: OfferPayload, ack: (r: unknown) => void) => {
      ack({ ok: true });
      if (this.sim.offerIds.has(offer.id)) return;
      this.sim.offerIds.add(offer.id);
      this.sim.stats.offers++;
      void this.onOffer(offer);
    });
    // issue 5/6 polls: answer most of them, loyal viewers rate higher
    socket.on('poll' as any, (poll: { id: string }) => {
      if (Math.random() < 0.6) this.track('poll_answer' as TrackEvent['type'], { pollId: poll.id, value: this.persona === 'loyal' ? 5 : 3 + Math.floor(Math.random() * 3) });
    });
    const finished = new Promise<void>((r) => (this.done = r));
    socket.connect();
    this.sim.stats.joined++;
    const lifetime = rand(2, 8) * 60_000 * (this.persona === 'loyal' ? 2 : 1);
    const until = Date.now() + lifetime / this.sim.opts.speed;
    const loop = async () => {
      let last = Date.now();
      while (!this.left && Date.now() < until && this.sim.running) {
        await this.sim.pause(rand(2000, 4000));
        if (this.left) break;
        const now = Date.now();
        // a heartbeat every 10 s of simulated time, claiming the simulated time watched (a server on
        // the wall clock credits at most the time it measured, so a faster simulation earns no extra watch time)
        if ((now - last) * this.sim.opts.speed >= 10_000) {
          this.track('watch', { playing: true, engagedMs: Math.min(Math.round((now - last) * this.sim.opts.speed), 15_000) });
          last = now;
        }
        this.act();
        await this.flush();
      }
      void this.leave();
    };
    void loop();
    await finished;
  }

  private act() {
    const b = BEHAVIOUR[this.persona];
    if (Math.random() < b.comment) this.track('comment', { text: pick(COMMENTS) });
    if (Math.random() < b.like) this.track('like', { count: 1 + Math.floor(Math.random() * 3) });
    if (Math.random() < b.view) {
      const p = pick(SKUS);
      this.track('product_view', { sku: p.sku, price: p.price });
      if (Math.random() < b.cart) this.track('add_to_cart', { sku: p.sku, price: p.price });
    }
    if (this.orders < b.maxOrders && Math.random() < b.buy) this.buy(rand(...b.basket));
  }

  private async onOffer(offer: OfferPayload) {
    this.track('offer_seen', { offerId: offer.id });
    if (Math.random() >= BEHAVIOUR[this.persona].offerTake) return;
    await this.sim.pause(rand(3000, 12_000));
    if (this.left) return;
    this.track('offer_click', { offerId: offer.id });
    const [lo, hi] = BEHAVIOUR[this.persona].basket;
    this.buy(Math.max(offer.minSpend ?? 0, rand(lo, hi)), offer.code);
  }

  /** A checkout in the page, then the shop's backend reports the verified order (with the coupon, if any). */
  private buy(amount: number, couponCode?: string) {
    const orderId = `sim-order-${randomUUID()}`;
    const amt = Math.round(amount);
    this.track('checkout', { amount: amt });
    const p = (async () => {
      try {
        const res = await this.sim.api('/v1/purchases', { orderId, viewerId: this.id, amount: amt, currency: 'CNY', ...(couponCode ? { couponCode } : {}) }, this.sim.opts.ingestKey);
        this.orders++;
        this.sim.stats.purchases++;
        this.sim.stats.gmv += amt;
        if (res?.coupon?.status === 'redeemed') this.sim.stats.redeemed++;
      } catch (err) {
        this.sim.stats.errors++;
        this.sim.log(`purchase of ${this.id} failed: ${(err as Error).message}`);
      }
    })();
    this.purchases.add(p);
    void p.finally(() => this.purchases.delete(p));
  }

  private track(type: TrackEvent['type'], data?: Record<string, unknown>) {
    this.pending.push({ id: randomUUID(), type, ts: Date.now(), ...(data ? { data } : {}) });
  }

  private flush(): Promise<void> {
    if (this.inflight) return this.inflight;
    const p = this.send().finally(() => { this.inflight = undefined; });
    this.inflight = p;
    return p;
  }

  private async send() {
    if (!this.pending.length || !this.socket?.connected) return;
    const batch = this.pending.splice(0);
    try {
      const ack = await this.socket.timeout(10_000).emitWithAck('track', batch);
      if ('error' in ack) throw new Error(ack.error.message);
      this.sim.stats.events += batch.length;
      this.sim.stats.acked += ack.accepted + ack.duplicates;
    } catch {
      if (!this.left) this.pending.unshift(...batch); // resend later with the same ids
    }
  }

  /** Leaves: waits for this viewer's purchases in flight, sends what is pending, then disconnects. */
  async leave() {
    if (this.left) return;
    this.left = true;
    await Promise.all(this.purchases);
    await this.inflight; // a batch the server may already have stored: wait for its ack before closing
    await this.flush(); // what is still pending (left: a failure drops it rather than queueing it again)
    this.socket?.close();
    this.done?.();
  }
}

/** Creates a stream with the admin key (the `--admin-key` path) and returns its keys. */
export async function createStream(server: string, adminKey: string, id: string): Promise<{ id: string; hostKey: string; ingestKey: string }> {
  const res = await fetch(`${server}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ id, title: `Simulated stream ${id}`, channel: 'sim-shop' }),
  });
  const json = (await res.json().catch(() => ({}))) as any;
  if (res.status !== 201) throw new Error(`could not create stream ${id}: ${res.status} ${json.message ?? ''} (an existing stream needs --ingest-key)`);
  return json;
}

export interface CliOptions extends Omit<Options, 'ingestKey'> {
  ingestKey?: string;
  adminKey?: string;
  json: boolean;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string', default: 'http://127.0.0.1:8080' },
      stream: { type: 'string' },
      'ingest-key': { type: 'string' },
      'host-key': { type: 'string' },
      'admin-key': { type: 'string' },
      viewers: { type: 'string', default: '40' },
      minutes: { type: 'string', default: '0' },
      speed: { type: 'string', default: '1' },
      mix: { type: 'string', default: '0.05,0.30' },
      holdout: { type: 'string', default: '0' },
      quiet: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const ingestKey = values['ingest-key'] ?? env.LIVETIER_INGEST_KEY;
  const adminKey = values['admin-key'] ?? env.LIVETIER_ADMIN_KEY;
  if (!ingestKey && !adminKey) throw new Error('--ingest-key (or LIVETIER_INGEST_KEY) is required, or --admin-key to create a new stream: purchases go through the merchant API');
  const viewers = Number(values.viewers);
  const minutes = Number(values.minutes);
  const speed = Number(values.speed);
  const [loyal, deal] = values.mix!.split(',').map(Number);
  if (!Number.isInteger(viewers) || viewers < 1) throw new Error('--viewers must be a positive integer');
  if (!Number.isFinite(minutes) || minutes < 0) throw new Error('--minutes must be ≥ 0 (0 runs until stopped)');
  if (!Number.isFinite(speed) || speed <= 0 || speed > 1000) throw new Error('--speed must be > 0 and ≤ 1000');
  if (!(loyal! >= 0 && deal! >= 0 && loyal! + deal! <= 1)) throw new Error('--mix must be two shares "loyal,deal" between 0 and 1 whose sum is ≤ 1, e.g. 0.05,0.30');
  const holdout = Number(values.holdout);
  if (!Number.isInteger(holdout) || holdout < 0 || holdout > 90) throw new Error('--holdout must be a whole percent from 0 to 90 (0 leaves the campaigns as they are)');
  let server: string;
  try {
    server = new URL(values.server!).origin;
  } catch {
    throw new Error(`--server must be a URL, e.g. http://127.0.0.1:8080 (got "${values.server}")`);
  }
  return {
    server,
    stream: values.stream ?? (ingestKey ? 'demo' : `sim-${Date.now().toString(36)}`),
    ingestKey,
    adminKey,
    hostKey: values['host-key'] ?? env.LIVETIER_HOST_KEY,
    viewers,
    minutes,
    speed,
    mix: { loyal: loyal!, deal: deal! },
    holdout,
    quiet: values.quiet!,
    json: values.json!,
  };
}
