/**
 * The audience simulator: real socket.io viewers and a merchant backend, driven through the public
 * contract only, so it works against any running LiveTier server.
 *
 *   npm run simulate -- --server http://127.0.0.1:8080 --stream demo --ingest-key KEY [--host-key KEY]
 *                       [--viewers 40] [--minutes 0] [--quiet]
 *
 * Personas, after the live-commerce playbook: a few loyal high spenders who buy often and comment,
 * a larger price-sensitive share who buy when an offer arrives, and many viewers who watch and chat
 * but rarely buy. Viewers leave and new ones arrive over time; the host pushes a deal now and then.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { OfferPayload, TrackEvent } from '../server/realtime/events.js';

type Persona = 'loyal' | 'deal' | 'watcher';

interface Options {
  server: string;
  stream: string;
  ingestKey: string;
  hostKey?: string;
  viewers: number;
  minutes: number;
  quiet: boolean;
}

const SKUS = [
  { sku: 'TEA-01', name: 'Longjing green tea', price: 12_800 },
  { sku: 'CUP-02', name: 'Celadon cup set', price: 26_800 },
  { sku: 'SILK-03', name: 'Silk scarf', price: 45_900 },
];
const COMMENTS = ['好看!', 'How much is shipping?', '这个颜色太美了', 'Just bought one!', 'Is the scarf 100% silk?', '主播好', 'love this', 'more tea please'];

const rand = (a: number, b: number) => a + Math.random() * (b - a);
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Simulator {
  private seq = 0;
  private stopped = false;
  private viewers = new Set<SimViewer>();
  private timers: NodeJS.Timeout[] = [];
  readonly stats = { joined: 0, events: 0, acked: 0, purchases: 0, offers: 0, pushes: 0, errors: 0 };

  constructor(readonly opts: Options) {}

  log(msg: string) {
    if (!this.opts.quiet) process.stdout.write(`[simulator] ${msg}\n`);
  }

  async api(path: string, body: unknown, key: string) {
    const res = await fetch(this.opts.server + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as any;
    if (res.status >= 400) throw new Error(`${path}: ${res.status} ${json.message ?? ''}`);
    return json;
  }

  persona(): Persona {
    const r = Math.random();
    return r < 0.08 ? 'loyal' : r < 0.38 ? 'deal' : 'watcher';
  }

  async start() {
    for (let i = 0; i < this.opts.viewers; i++) {
      void this.spawn();
      await sleep(rand(50, 250));
    }
    if (this.opts.hostKey) this.scheduleHostPushes();
    if (this.opts.minutes > 0) this.timers.push(setTimeout(() => void this.stop(), this.opts.minutes * 60_000));
    this.timers.push(
      setInterval(() => {
        const s = this.stats;
        this.log(`${this.viewers.size} viewers · ${s.acked}/${s.events} events acked · ${s.purchases} purchases · ${s.offers} offers · ${s.errors} errors`);
      }, 15_000),
    );
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
      const p = pushes[n++ % pushes.length]!;
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
    this.timers.push(setTimeout(push, 15_000), setInterval(push, 30_000));
    this.hostSocket = hostSocket;
  }
  private hostSocket?: Socket;

  async spawn() {
    if (this.stopped) return;
    const v = new SimViewer(this, `sim-${Date.now().toString(36)}-${(this.seq++).toString(36)}`, this.persona());
    this.viewers.add(v);
    try {
      await v.run();
    } catch (err) {
      this.stats.errors++;
      this.log(`viewer ${v.id} failed: ${(err as Error).message}`);
    }
    this.viewers.delete(v);
    if (!this.stopped) setTimeout(() => void this.spawn(), rand(500, 5000)); // churn: someone new arrives
  }

  async stop() {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const v of this.viewers) v.leave();
    this.hostSocket?.close();
    this.log(`stopped: ${JSON.stringify(this.stats)}`);
  }

  get running() {
    return !this.stopped;
  }
}

class SimViewer {
  private socket!: Socket;
  private pending: TrackEvent[] = [];
  private orders = 0;
  private left = false;
  private done!: () => void;

  constructor(
    private readonly sim: Simulator,
    readonly id: string,
    private readonly persona: Persona,
  ) {}

  async run() {
    const { server, stream, ingestKey } = this.sim.opts;
    const { token } = await this.sim.api('/v1/viewer-tokens', { viewerId: this.id }, ingestKey);
    this.socket = io(`${server}/viewer`, { auth: { streamId: stream, viewerId: this.id, token }, transports: ['websocket'], autoConnect: false, forceNew: true });
    this.socket.on('offer', (offer: OfferPayload, ack: (r: unknown) => void) => {
      ack({ ok: true });
      this.sim.stats.offers++;
      void this.onOffer(offer);
    });
    this.socket.connect();
    this.sim.stats.joined++;
    const lifetime = rand(2, 8) * 60_000 * (this.persona === 'loyal' ? 2 : 1);
    const until = Date.now() + lifetime;
    const finished = new Promise<void>((r) => (this.done = r));
    const loop = async () => {
      let last = Date.now();
      while (!this.left && Date.now() < until && this.sim.running) {
        await sleep(rand(2000, 4000));
        if (this.left) break;
        const now = Date.now();
        if (now - last >= 10_000) {
          this.track('watch', { playing: true, engagedMs: Math.min(now - last, 600_000) });
          last = now;
        }
        this.act();
        await this.flush();
      }
      this.leave();
    };
    void loop();
    await finished;
  }

  private act() {
    const chatty = this.persona === 'deal' ? 0.1 : 0.2;
    if (Math.random() < chatty) this.track('comment', { text: pick(COMMENTS) });
    if (Math.random() < 0.15) this.track('like', { count: 1 + Math.floor(Math.random() * 3) });
    if (Math.random() < 0.1) {
      const p = pick(SKUS);
      this.track('product_view', { sku: p.sku, price: p.price });
      if (Math.random() < 0.3) this.track('add_to_cart', { sku: p.sku, price: p.price });
    }
    if (this.persona === 'loyal' && this.orders < 3 && Math.random() < 0.12) void this.buy(rand(40_000, 90_000));
  }

  private async onOffer(offer: OfferPayload) {
    this.track('offer_seen', { offerId: offer.id });
    const p = this.persona === 'deal' ? 0.6 : this.persona === 'loyal' ? 0.5 : 0.08;
    if (Math.random() >= p) return;
    await sleep(rand(3000, 12_000));
    if (this.left) return;
    this.track('offer_click', { offerId: offer.id });
    await this.buy(Math.max(offer.minSpend ?? 0, Math.round(rand(15_000, 45_000))), offer.code);
  }

  private async buy(amount: number, couponCode?: string) {
    const orderId = `sim-order-${randomUUID()}`;
    const amt = Math.round(amount);
    this.track('checkout', { amount: amt });
    try {
      await this.sim.api('/v1/purchases', { orderId, viewerId: this.id, amount: amt, currency: 'CNY', ...(couponCode ? { couponCode } : {}) }, this.sim.opts.ingestKey);
      this.orders++;
      this.sim.stats.purchases++;
    } catch {
      this.sim.stats.errors++;
    }
  }

  private track(type: TrackEvent['type'], data?: Record<string, unknown>) {
    this.pending.push({ id: randomUUID(), type, ts: Date.now(), ...(data ? { data } : {}) });
  }

  private async flush() {
    if (!this.pending.length || !this.socket.connected) return;
    const batch = this.pending.splice(0);
    this.sim.stats.events += batch.length;
    try {
      const ack = await this.socket.timeout(10_000).emitWithAck('track', batch);
      if ('error' in ack) throw new Error(ack.error.message);
      this.sim.stats.acked += ack.accepted + ack.duplicates;
    } catch {
      this.pending.unshift(...batch); // resend later with the same ids
      this.sim.stats.events -= batch.length;
    }
  }

  leave() {
    if (this.left) return;
    this.left = true;
    this.socket?.close();
    this.done?.();
  }
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string', default: 'http://127.0.0.1:8080' },
      stream: { type: 'string', default: 'demo' },
      'ingest-key': { type: 'string' },
      'host-key': { type: 'string' },
      viewers: { type: 'string', default: '40' },
      minutes: { type: 'string', default: '0' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const ingestKey = values['ingest-key'] ?? process.env.LIVETIER_INGEST_KEY;
  if (!ingestKey) throw new Error('--ingest-key (or LIVETIER_INGEST_KEY) is required: purchases go through the merchant API');
  const viewers = Number(values.viewers);
  const minutes = Number(values.minutes);
  if (!Number.isInteger(viewers) || viewers < 1) throw new Error('--viewers must be a positive integer');
  if (!Number.isFinite(minutes) || minutes < 0) throw new Error('--minutes must be ≥ 0 (0 runs until stopped)');
  return {
    server: values.server!.replace(/\/$/, ''),
    stream: values.stream!,
    ingestKey,
    hostKey: values['host-key'] ?? process.env.LIVETIER_HOST_KEY,
    viewers,
    minutes,
    quiet: values.quiet!,
  };
}
