/**
 * The HTTP way out, for when the page is hidden or goes away: `POST /v1/collect` with the body
 * as `text/plain` (a CORS-simple request: no preflight), each body under 60 KB, split when
 * larger. `keepalive` fetches outlive the page and their answers, when the page is still there
 * to read them, settle the events; `sendBeacon` is the fire-and-forget fallback. Events stay in
 * the queue until an answer settles them: a resend carries the same ids and the server dedups.
 */
import type { TrackAck, TrackEvent, ViewerAuth } from '../server/realtime/events.js';

/** the largest body (the server takes 64 KB; browsers allow 64 KB of keepalive data in flight) */
export const BEACON_BYTES = 60 * 1024;
/** the most events the server takes in one body */
export const BEACON_EVENTS = 500;

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** Splits `events` into JSON bodies of at most `max` bytes; an event too large on its own is left out. */
export function beaconBodies(auth: ViewerAuth, events: TrackEvent[], max = BEACON_BYTES): { body: string; ids: string[] }[] {
  const head = { streamId: auth.streamId, viewerId: auth.viewerId, ...(auth.token ? { token: auth.token } : {}) };
  const base = bytes(JSON.stringify({ ...head, events: [] }));
  const out: { body: string; ids: string[] }[] = [];
  let part: TrackEvent[] = [];
  let size = base;
  const close = () => {
    if (part.length) out.push({ body: JSON.stringify({ ...head, events: part }), ids: part.map((e) => e.id) });
    part = [];
    size = base;
  };
  for (const e of events) {
    const n = bytes(JSON.stringify(e)) + 1;
    if (base + n > max) continue;
    if (size + n > max || part.length >= BEACON_EVENTS) close();
    part.push(e);
    size += n;
  }
  close();
  return out;
}

export interface BeaconAnswer {
  /** ids the server settled (accepted, duplicates or rejected) */
  settled?: string[];
  /** the server asked to wait (429/503 `Retry-After`), in ms */
  retryAfterMs?: number;
}

/**
 * Sends each body. `read: true` uses `fetch` with `keepalive` and reports answers through
 * `answer`; otherwise (or without fetch) `navigator.sendBeacon`. Returns the ids handed over.
 */
export function sendBeacons(url: string, parts: { body: string; ids: string[] }[], read: boolean, answer: (a: BeaconAnswer) => void = () => {}): string[] {
  const sent: string[] = [];
  for (const { body, ids } of parts) {
    let ok = false;
    if (read && typeof fetch === 'function') {
      try {
        fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit', headers: { 'content-type': 'text/plain' } }).then(
          async (res) => {
            if (res.ok) {
              const ack = (await res.json()) as TrackAck;
              if (Array.isArray(ack.rejected)) answer({ settled: ids });
            } else if (res.status === 429 || res.status === 503) {
              answer({ retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
            }
          },
          () => {},
        );
        ok = true;
      } catch {
        // keepalive quota or no fetch: try a beacon
      }
    }
    if (!ok) {
      try {
        ok = navigator.sendBeacon(url, body);
      } catch {
        ok = false;
      }
    }
    if (ok) sent.push(...ids);
  }
  return sent;
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now (1 s when missing or unreadable). */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (!header) return 1000;
  const s = Number(header);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : 1000;
}
