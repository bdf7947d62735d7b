/**
 * Watch heartbeats: while the stream's `<video>` plays and the page is visible, a `watch` event
 * every 10 s with the engaged milliseconds since the previous one. When that stops (pause, end,
 * hidden tab, page hide), one closing heartbeat with `playing: false` carries the remainder.
 * The server credits only what its own clock allows (server/ingest/watch.ts), so this is a claim.
 */

export const HEARTBEAT_INTERVAL_MS = 10_000;
/** the most one heartbeat may claim (the server's schema limit) */
export const MAX_ENGAGED_MS = 600_000;

export interface WatchData {
  playing: boolean;
  engagedMs: number;
}

export interface HeartbeatOptions {
  send: (data: WatchData) => void;
  /** the stream's video, or a CSS selector for it (looked up each time, so it may appear later); none: the page counts as playing while visible */
  video?: HTMLVideoElement | string | null;
  doc?: Document;
  interval?: number;
  now?: () => number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

const MEDIA_EVENTS = ['play', 'playing', 'pause', 'ended', 'emptied'] as const;

export const clampEngaged = (ms: number) => Math.min(MAX_ENGAGED_MS, Math.max(0, Math.round(ms)));

/** Starts heartbeats; returns `stop`, which sends the closing heartbeat if one is due. */
export function startHeartbeat(options: HeartbeatOptions): () => void {
  const {
    send,
    video = null,
    doc = document,
    interval = HEARTBEAT_INTERVAL_MS,
    now = () => Date.now(),
    setInterval: every = (fn, ms) => setInterval(fn, ms),
    clearInterval: cancel = (h) => clearInterval(h as ReturnType<typeof setInterval>),
  } = options;

  let since: number | null = null; // when the current engaged stretch began (or the last beat)
  let ticker: unknown = null;

  const videoEl = (): HTMLVideoElement | null => (typeof video === 'string' ? doc.querySelector<HTMLVideoElement>(video) : video);
  const engaged = () => {
    if (doc.visibilityState !== 'visible') return false;
    if (video === null) return true;
    const v = videoEl();
    return !!v && !v.paused && !v.ended;
  };

  const beat = () => {
    if (since === null) return;
    const t = now();
    send({ playing: true, engagedMs: clampEngaged(t - since) });
    since = t;
  };

  const end = () => {
    if (since === null) return;
    cancel(ticker);
    ticker = null;
    const engagedMs = clampEngaged(now() - since);
    since = null;
    send({ playing: false, engagedMs });
  };

  const update = () => {
    if (engaged()) {
      if (since !== null) return;
      since = now();
      ticker = every(beat, interval);
    } else {
      end();
    }
  };

  // media events do not bubble, but they do pass the document in the capture phase
  const onMedia = (e: Event) => {
    const v = videoEl();
    if (v && e.target === v) update();
  };
  const onHide = () => end();

  for (const type of MEDIA_EVENTS) doc.addEventListener(type, onMedia, true);
  doc.addEventListener('visibilitychange', update);
  doc.defaultView?.addEventListener('pagehide', onHide);
  doc.defaultView?.addEventListener('pageshow', update);
  update();

  return () => {
    for (const type of MEDIA_EVENTS) doc.removeEventListener(type, onMedia, true);
    doc.removeEventListener('visibilitychange', update);
    doc.defaultView?.removeEventListener('pagehide', onHide);
    doc.defaultView?.removeEventListener('pageshow', update);
    end();
  };
}
