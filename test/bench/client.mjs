// A load generator process: real socket.io-client viewers driven by the orchestrator over IPC.
// It never shares a process with the server under test.
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const reply = (msg) => process.send(msg);

/** @type {{ socket: import('socket.io-client').Socket, viewerId: string }[]} */
let viewers = [];
let heartbeat = null;
let lastError = null; // the first refusal, so a failed phase says why
const receipts = new Map(); // offer title → Map(viewer index → first receipt time)

function open(url, auth) {
  return new Promise((resolve) => {
    // a loaded 2-core machine can take long to answer thousands of handshakes: wait up to 60 s for each
    const socket = io(`${url}/viewer`, { auth, transports: ['websocket'], forceNew: true, reconnection: false, autoConnect: false, timeout: 60_000 });
    const v = { socket, viewerId: auth.viewerId, offers: [] };
    socket.on('offer', (offer, ack) => {
      if (typeof ack === 'function') ack({ ok: true });
      const t = now();
      const seen = receipts.get(offer.title);
      if (seen && !seen.has(v)) seen.set(v, t);
      v.offers.push({ offer, t });
      v.onOffer?.(offer, t);
    });
    const timer = setTimeout(() => done(false), 90_000);
    const done = (ok) => {
      clearTimeout(timer);
      resolve(ok ? v : (socket.close(), null));
    };
    socket.once('hello', () => done(true));
    socket.once('connect_error', (err) => {
      lastError ??= `${err.message}${err.data?.message ? `: ${err.data.message}` : ''}`;
      done(false);
    });
    socket.connect();
  });
}

/** Opens viewers with at most `parallel` handshakes in flight. */
async function connectAll(url, auths, parallel = 100) {
  let i = 0;
  let failed = 0;
  const worker = async () => {
    while (i < auths.length) {
      const v = await open(url, auths[i++]);
      if (v) viewers.push(v);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return failed;
}

const COMMENTS = ['好看!', 'How much is shipping?', 'love this', '主播好'];
// ids are unique per run without the cost of a UUID each: the generator must stay cheaper than the server
const idPrefix = randomUUID().slice(0, 8);
let idSeq = 0;
function events(n) {
  const out = [];
  const ts = Date.now();
  for (let i = 0; i < n; i++) {
    const r = i % 4;
    const base = { id: `${idPrefix}-${(idSeq++).toString(36)}`, ts };
    out.push(
      r === 0 ? { ...base, type: 'comment', data: { text: COMMENTS[i % COMMENTS.length] } }
        : r === 1 ? { ...base, type: 'like', data: { count: 1 } }
          : r === 2 ? { ...base, type: 'product_view', data: { sku: 'TEA-01', price: 12800 } }
            : { ...base, type: 'add_to_cart', data: { sku: 'TEA-01', price: 12800, quantity: 1 } },
    );
  }
  return out;
}

async function ingest(durationMs, batch) {
  let calls = 0, accepted = 0, acked = 0, rejected = 0, errors = 0;
  const end = now() + durationMs;
  const start = now();
  await Promise.all(viewers.map(async ({ socket }) => {
    while (now() < end) {
      const payload = events(batch);
      try {
        const ack = await socket.timeout(30_000).emitWithAck('track', payload);
        if (ack.error) { errors++; continue; }
        calls++;
        accepted += ack.accepted;
        acked += ack.accepted + ack.duplicates;
        rejected += ack.rejected.length;
      } catch {
        errors++;
      }
    }
  }));
  return { calls, accepted, acked, rejected, errors, elapsed: now() - start };
}

async function api(url, path, body, key) {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (res.status >= 400) throw new Error(`${path}: ${res.status} ${json.message ?? ''}`);
  return json;
}

/**
 * Verified viewers: each first purchase tiers its viewer mid, which issues the default deal offer.
 * The viewers connect to `url`; the purchases go to `purchaseUrl` (another node of a cluster, for
 * the cross-node latency), by default the same.
 */
async function latency({ url, purchaseUrl = url, streamId, ingestKey, count, prefix }) {
  const auths = [];
  for (let i = 0; i < count; i++) {
    const viewerId = `${prefix}-${i}`;
    auths.push({ streamId, viewerId, token: (await api(url, '/v1/viewer-tokens', { viewerId }, ingestKey)).token });
  }
  const start = viewers.length;
  const failed = await connectAll(url, auths);
  const mine = viewers.slice(start);
  const samples = [];
  let errors = failed;
  for (const v of mine) {
    const got = new Promise((resolve) => {
      v.onOffer = (_offer, t) => resolve(t);
      setTimeout(() => resolve(null), 10_000);
    });
    const t0 = now();
    try {
      await api(purchaseUrl, '/v1/purchases', { orderId: `bench-${randomUUID()}`, viewerId: v.viewerId, amount: 19_900, currency: 'CNY' }, ingestKey);
    } catch {
      errors++;
      continue;
    }
    const t = await got;
    v.onOffer = undefined;
    if (t === null) errors++;
    else samples.push(t - t0);
  }
  return { samples, errors };
}

process.on('message', async (msg) => {
  if (msg === 'close') process.exit(0);
  try {
    switch (msg.cmd) {
      case 'connect': {
        const t0 = now();
        lastError = null;
        const auths = Array.from({ length: msg.count }, (_, i) => ({ streamId: msg.streamId, viewerId: `${msg.prefix}-${i}` }));
        const failed = await connectAll(msg.url, auths);
        return reply({ cmd: 'connect', connected: viewers.length, failed, refusal: failed ? lastError ?? 'no hello within 90 s' : undefined, ms: now() - t0 });
      }
      case 'heartbeat': {
        // what the SDK does while a video plays: one `watch` event every `everyMs`, staggered
        clearInterval(heartbeat);
        let turn = 0;
        const slices = Math.max(1, Math.round(msg.everyMs / 100));
        heartbeat = setInterval(() => {
          const k = turn++ % slices;
          for (let i = k; i < viewers.length; i += slices) {
            const s = viewers[i].socket;
            s.emit('track', [{ id: randomUUID(), type: 'watch', ts: Date.now(), data: { playing: true, engagedMs: msg.everyMs } }], () => {});
          }
        }, 100);
        return reply({ cmd: 'heartbeat', ok: true });
      }
      case 'stop-heartbeat':
        clearInterval(heartbeat);
        return reply({ cmd: 'stop-heartbeat', ok: true });
      case 'ingest':
        return reply({ cmd: 'ingest', ...(await ingest(msg.durationMs, msg.batch)) });
      case 'watch-offers':
        receipts.set(msg.title, new Map());
        return reply({ cmd: 'watch-offers', ok: true });
      case 'offers-report': {
        const deadline = now() + msg.timeoutMs;
        const seen = receipts.get(msg.title) ?? new Map();
        while (seen.size < msg.expect && now() < deadline) await sleep(20);
        const times = [...seen.values()];
        return reply({ cmd: 'offers-report', count: times.length, first: Math.min(...times), last: Math.max(...times) });
      }
      case 'latency':
        return reply({ cmd: 'latency', ...(await latency(msg)) });
      case 'close':
        clearInterval(heartbeat);
        for (const v of viewers) v.socket.close();
        viewers = [];
        return reply({ cmd: 'close', ok: true });
    }
  } catch (err) {
    reply({ cmd: msg.cmd, error: String(err?.stack ?? err) });
  }
});
process.send({ ready: true });
