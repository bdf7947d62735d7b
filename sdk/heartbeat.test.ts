// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clampEngaged, HEARTBEAT_INTERVAL_MS, startHeartbeat, type WatchData } from './heartbeat.js';

let visibility: DocumentVisibilityState = 'visible';
const setVisibility = (state: DocumentVisibilityState) => {
  visibility = state;
  document.dispatchEvent(new Event('visibilitychange'));
};

let stop: () => void = () => {};
let beats: WatchData[] = [];
const send = (d: WatchData) => void beats.push(d);

beforeEach(() => {
  vi.useFakeTimers();
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
  visibility = 'visible';
  beats = [];
  document.body.innerHTML = '<video id="player"></video>';
});
afterEach(() => {
  stop();
  vi.useRealTimers();
});

const video = () => document.querySelector('video')!;

describe('heartbeat with a video', () => {
  it('sends nothing while the video is paused', () => {
    stop = startHeartbeat({ send, video: '#player' });
    vi.advanceTimersByTime(60_000);
    expect(beats).toEqual([]);
  });

  it('beats every 10 s while it plays and the page is visible', async () => {
    stop = startHeartbeat({ send, video: '#player' });
    await video().play();
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS * 3);
    expect(beats).toEqual([
      { playing: true, engagedMs: 10_000 },
      { playing: true, engagedMs: 10_000 },
      { playing: true, engagedMs: 10_000 },
    ]);
  });

  it('sends one closing heartbeat with the remainder on pause, then nothing', async () => {
    stop = startHeartbeat({ send, video: video() });
    await video().play();
    vi.advanceTimersByTime(14_000);
    video().pause();
    setVisibility('hidden'); // no second closing heartbeat
    vi.advanceTimersByTime(60_000);
    expect(beats).toEqual([
      { playing: true, engagedMs: 10_000 },
      { playing: false, engagedMs: 4_000 },
    ]);
  });

  it('stops when the page is hidden and resumes when visible again', async () => {
    stop = startHeartbeat({ send, video: '#player' });
    await video().play();
    vi.advanceTimersByTime(2_500);
    setVisibility('hidden');
    vi.advanceTimersByTime(30_000);
    setVisibility('visible');
    vi.advanceTimersByTime(10_000);
    expect(beats).toEqual([
      { playing: false, engagedMs: 2_500 },
      { playing: true, engagedMs: 10_000 },
    ]);
  });

  it('counts nothing while playing in a hidden tab', async () => {
    setVisibility('hidden');
    stop = startHeartbeat({ send, video: '#player' });
    await video().play();
    vi.advanceTimersByTime(30_000);
    expect(beats).toEqual([]);
  });

  it('finds a video that appears after start', async () => {
    document.body.innerHTML = '';
    stop = startHeartbeat({ send, video: '#player' });
    document.body.innerHTML = '<video id="player"></video>';
    await video().play();
    vi.advanceTimersByTime(10_000);
    expect(beats).toEqual([{ playing: true, engagedMs: 10_000 }]);
  });

  it('ignores other videos on the page', async () => {
    document.body.insertAdjacentHTML('beforeend', '<video id="ad"></video>');
    stop = startHeartbeat({ send, video: '#player' });
    await document.querySelector<HTMLVideoElement>('#ad')!.play();
    vi.advanceTimersByTime(30_000);
    expect(beats).toEqual([]);
  });

  it('stop() closes an engaged stretch once', async () => {
    const stopNow = startHeartbeat({ send, video: '#player' });
    await video().play();
    vi.advanceTimersByTime(3_000);
    stopNow();
    stopNow();
    vi.advanceTimersByTime(30_000);
    expect(beats).toEqual([{ playing: false, engagedMs: 3_000 }]);
  });
});

describe('heartbeat without a video', () => {
  it('treats the visible page as playing', () => {
    stop = startHeartbeat({ send });
    vi.advanceTimersByTime(20_000);
    setVisibility('hidden');
    expect(beats).toEqual([
      { playing: true, engagedMs: 10_000 },
      { playing: true, engagedMs: 10_000 },
      { playing: false, engagedMs: 0 },
    ]);
  });

  it('uses the injected clock and timers', () => {
    let now = 1000;
    let tick: () => void = () => {};
    stop = startHeartbeat({ send, now: () => now, setInterval: (fn) => ((tick = fn), 1), clearInterval: () => {} });
    now += 12_345.6;
    tick();
    expect(beats).toEqual([{ playing: true, engagedMs: 12_346 }]);
  });
});

describe('clampEngaged', () => {
  it('keeps claims to whole milliseconds within 0..600000', () => {
    expect(clampEngaged(-5)).toBe(0);
    expect(clampEngaged(10_000.4)).toBe(10_000);
    expect(clampEngaged(9e9)).toBe(600_000);
  });
});
