// @vitest-environment happy-dom
/**
 * identify()'s pending alias survives the page: stored beside the queue, sent once the next page
 * is identified as the viewer it was meant for, cleared by the server's answer or by consent(false).
 * socket.io-client is replaced by a fake that records each handshake's `auth`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { init, type LiveTierClient } from './index.js';
import { aliasKey } from './storage.js';

const { sockets, FakeSocket } = vi.hoisted(() => {
  type Handler = (...args: unknown[]) => void;
  class FakeSocket {
    connected = false;
    active = false;
    /** the `auth` of each handshake, in order */
    handshakes: Record<string, unknown>[] = [];
    private handlers = new Map<string, Handler[]>();
    constructor(public auth: Record<string, unknown>) {}
    on(event: string, fn: Handler) {
      this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
      return this;
    }
    connect() {
      this.active = true;
      this.handshakes.push({ ...this.auth });
      return this;
    }
    disconnect() {
      this.active = false;
      if (this.connected) {
        this.connected = false;
        this.fire('disconnect', 'io client disconnect');
      }
      return this;
    }
    removeAllListeners() {
      this.handlers.clear();
      return this;
    }
    timeout() {
      return { emitWithAck: async (_event: string, batch: unknown[]) => ({ accepted: batch.length, duplicates: 0, rejected: [] }) };
    }
    fire(event: string, ...args: unknown[]) {
      for (const fn of this.handlers.get(event) ?? []) fn(...args);
    }
    /** the server accepts the last handshake and says hello */
    accept(hello: { viewerId: string; verified: boolean }) {
      this.connected = true;
      this.fire('connect');
      this.fire('hello', { ...hello, serverNow: Date.now() });
    }
  }
  return { sockets: [] as FakeSocket[], FakeSocket };
});

vi.mock('socket.io-client', () => ({
  io: (_url: string, opts: { auth: Record<string, unknown> }) => {
    const s = new FakeSocket(opts.auth);
    sockets.push(s);
    return s;
  },
}));

const clients: LiveTierClient[] = [];
/** a page: one client, and the socket it opened */
const open = (o: Partial<Parameters<typeof init>[0]> = {}) => {
  const lt = init({ server: 'http://127.0.0.1:9', stream: 's1', heartbeat: false, ...o });
  clients.push(lt);
  return { lt, socket: sockets.at(-1)! };
};
const stored = () => JSON.parse(localStorage.getItem(aliasKey('s1')) ?? 'null');
const lastAuth = (s: InstanceType<typeof FakeSocket>) => s.handshakes.at(-1);

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  sockets.length = 0;
  localStorage.clear();
});

describe('pending alias', () => {
  it('identify() stores { anon, viewerId } at once and reconnects with it', () => {
    const { lt, socket } = open();
    const anon = lt.viewerId;
    expect(lastAuth(socket)).toEqual({ streamId: 's1', viewerId: anon });
    lt.identify('u_x', 'tok');
    expect(stored()).toEqual({ anon, viewerId: 'u_x' });
    expect(lastAuth(socket)).toEqual({ streamId: 's1', viewerId: 'u_x', token: 'tok', alias: anon });
  });

  it('a page closed before the server answered: the next page sends it once identified as that viewer again', () => {
    const first = open();
    const anon = first.lt.viewerId;
    first.lt.identify('u_x', 'tok');
    first.lt.close();

    // the next page starts anonymous (same id) and identifies again
    const again = open();
    expect(again.lt.viewerId).toBe(anon);
    expect(lastAuth(again.socket)).toEqual({ streamId: 's1', viewerId: anon });
    again.lt.identify('u_x', 'tok');
    expect(lastAuth(again.socket)).toMatchObject({ viewerId: 'u_x', token: 'tok', alias: anon });
    again.lt.close();

    // or a logged-in page hands the identity to init: the first handshake carries it
    const member = open({ viewerId: 'u_x', token: 'tok' });
    expect(member.socket.handshakes).toEqual([{ streamId: 's1', viewerId: 'u_x', token: 'tok', alias: anon }]);
  });

  it('is sent only when identified as the viewer it was meant for', () => {
    const first = open();
    const anon = first.lt.viewerId;
    first.lt.identify('u_x', 'tok');
    first.lt.close();

    const other = open({ viewerId: 'u_y', token: 'tok-y' });
    expect(lastAuth(other.socket)).toEqual({ streamId: 's1', viewerId: 'u_y', token: 'tok-y' });
    other.socket.accept({ viewerId: 'u_y', verified: true });
    other.lt.close();
    // a token without the viewer id: the SDK cannot tell whose it is
    const tokenOnly = open({ token: 'tok' });
    expect(lastAuth(tokenOnly.socket)).not.toHaveProperty('alias');
    expect(stored()).toEqual({ anon, viewerId: 'u_x' });
  });

  it('the hello of a verified handshake that carried it clears the stored copy', () => {
    const { lt, socket } = open();
    const anon = lt.viewerId;
    lt.identify('u_x', 'tok');
    // the anonymous connection's hello, late: not the answer to the alias
    socket.fire('hello', { viewerId: `anon:${anon}`, verified: false, serverNow: Date.now() });
    expect(stored()).toEqual({ anon, viewerId: 'u_x' });
    socket.accept({ viewerId: 'u_x', verified: true });
    expect(localStorage.getItem(aliasKey('s1'))).toBeNull();
    // the next page, identified as u_x, sends no alias any more
    lt.close();
    const next = open({ viewerId: 'u_x', token: 'tok' });
    expect(lastAuth(next.socket)).toEqual({ streamId: 's1', viewerId: 'u_x', token: 'tok' });
  });

  it('a hello that says the link failed keeps it for the next connection', () => {
    const { lt, socket } = open();
    const anon = lt.viewerId;
    lt.identify('u_x', 'tok');
    socket.fire('hello', { viewerId: 'u_x', verified: true, serverNow: Date.now(), aliased: false });
    expect(stored()).toEqual({ anon, viewerId: 'u_x' });
    lt.close();
    expect(lastAuth(open({ viewerId: 'u_x', token: 'tok' }).socket)).toMatchObject({ alias: anon });
  });

  it('consent(false) drops it, stored and in memory', () => {
    const { lt, socket } = open();
    lt.identify('u_x', 'tok');
    lt.consent(false);
    expect(localStorage.getItem(aliasKey('s1'))).toBeNull();
    lt.consent(true);
    const again = sockets.at(-1)!;
    expect(again).not.toBe(socket);
    expect(lastAuth(again)).toEqual({ streamId: 's1', viewerId: 'u_x', token: 'tok' });
    expect(localStorage.getItem(aliasKey('s1'))).toBeNull();
  });

  it('with consent pending it stays in memory until consent(true)', () => {
    const { lt } = open({ consent: 'pending' });
    const anon = lt.viewerId;
    lt.identify('u_x', 'tok');
    expect(sockets).toHaveLength(0);
    expect(localStorage.length).toBe(0);
    lt.consent(true);
    expect(stored()).toEqual({ anon, viewerId: 'u_x' });
    expect(lastAuth(sockets.at(-1)!)).toEqual({ streamId: 's1', viewerId: 'u_x', token: 'tok', alias: anon });
  });
});
