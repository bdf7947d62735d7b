/**
 * The `/host` namespace: a snapshot on connect, an `update` within a second of any change, and
 * the one-click push of an offer to a tier; beside the summary, the dashboard's live data
 * (`funnel`, `activity`, `trend`, `minutes`, `poll:results`) and `poll:open`. The raw feed
 * (routes/feed.ts) gets the same messages through `onMessage`.
 */
import type { Namespace, Socket } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Compile } from 'typebox/compile';
import Type from 'typebox';
import type { Engine } from '../../engine.js';
import type { Store } from '../../store/types.js';
import type { HostClientToServerEvents, HostServerToClientEvents, HostSocketData, HostPushAck, ActivityItem, ErrorAck, MinutePoint, PollPayload, PollResults, StreamFunnel, StreamSummary, TrendPoint, ViewerClientToServerEvents, ViewerServerToClientEvents } from '../events.js';
import { authenticateHost, handshakeError, unavailable } from '../auth.js';
import { hostRoom, streamRoom } from '../rooms.js';
import { Dashboard } from '../dashboard.js';
import { HostPushBody } from '../../routes/schemas.js';
import { DEFAULT_LIMITS, type Limits } from '../../config.js';
import { bufferedPackets, dropNow, stalled } from '../backpressure.js';

export type HostNamespace = Namespace<HostClientToServerEvents, HostServerToClientEvents, Record<string, never>, HostSocketData>;
type HostSocket = Socket<HostClientToServerEvents, HostServerToClientEvents, Record<string, never>, HostSocketData>;

/** updates are coalesced: at most one per stream per this many ms (well under the 1 s promise) */
export const HOST_UPDATE_INTERVAL_MS = 250;

const checkPush = Compile(HostPushBody);

/** `poll:open` */
export const POLL_DEFAULT_SECONDS = 120;
const PollOpenBody = Type.Object(
  {
    question: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    seconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 3600 })),
  },
  { additionalProperties: false },
);
const checkPollOpen = Compile(PollOpenBody);

/** The first schema error as `field message`. */
function firstError(check: { Errors(v: unknown): Iterable<{ instancePath: string; message: string }> }, value: unknown, fallback: string) {
  const e = [...check.Errors(value)][0];
  const where = e?.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return e ? `${where ? where + ' ' : ''}${e.message}` : fallback;
}

/** What the raw feed relays, one JSON object per message. */
export type FeedMessage =
  | ({ type: 'snapshot' | 'update' } & StreamSummary)
  | ({ type: 'funnel' } & StreamFunnel)
  | { type: 'activity'; items: ActivityItem[] }
  | { type: 'trend'; points: TrendPoint[] }
  | { type: 'minutes'; points: MinutePoint[] }
  | ({ type: 'poll' } & PollResults);

export function createHostHandlers({
  nsp,
  engine,
  store,
  log,
  clock = Date.now,
  limits = DEFAULT_LIMITS,
}: {
  nsp: HostNamespace;
  engine: Engine;
  store: Store;
  log: FastifyBaseLogger;
  clock?: () => number;
  /** `maxBufferedPackets` drops a host socket that stopped reading */
  limits?: Limits;
}) {
  const dashboard = new Dashboard(store, (err, streamId) => log.error({ err, streamId }, 'host history not saved or read'));
  engine.setHooks({ activity: (streamId, item) => dashboard.addActivity(streamId, item) });
  const viewerNsp = nsp.server.of('/viewer') as Namespace<ViewerClientToServerEvents, ViewerServerToClientEvents>;

  nsp.use((socket, next) => {
    authenticateHost(store, socket.handshake.auth).then(
      (stream) => {
        socket.data = { streamId: stream.id };
        next();
      },
      (err) => next(handshakeError(err)),
    );
  });

  const timers = new Map<string, NodeJS.Timeout>();
  const listeners = new Set<(streamId: string) => void>();
  const messageListeners = new Set<(streamId: string, messages: FeedMessage[]) => void>();

  /** Schedules one `update` for the stream's hosts (and raw-feed listeners). */
  function changed(streamId: string, delay = HOST_UPDATE_INTERVAL_MS) {
    if (timers.has(streamId)) return;
    timers.set(
      streamId,
      setTimeout(() => {
        timers.delete(streamId);
        flush(streamId).catch((err) => log.error({ err, streamId }, 'host update failed'));
      }, delay),
    );
  }

  /** A host socket whose client stopped reading is dropped before more is sent to it (it reconnects to a fresh snapshot). */
  function dropStalled(streamId: string) {
    for (const id of nsp.adapter.rooms.get(hostRoom(streamId)) ?? []) {
      const socket = nsp.sockets.get(id);
      if (!socket || !stalled(socket, limits.maxBufferedPackets)) continue;
      log.warn({ streamId, buffered: bufferedPackets(socket) }, 'host socket is not reading: closed');
      dropNow(socket);
    }
  }

  /** Sends what changed in the stream: the summary, then the dashboard's new trend point and minutes, activity, funnel and poll results. */
  async function flush(streamId: string) {
    await dashboard.ready(streamId); // the history stored before a restart, once
    const summary = await engine.summary(streamId);
    if (!summary) return;
    dropStalled(streamId);
    const now = clock();
    const room = nsp.to(hostRoom(streamId));
    const messages: FeedMessage[] = [{ type: 'update', ...summary }];
    room.emit('update', summary);
    const { point, minutes } = dashboard.sample(summary, now);
    room.emit('trend', [point]);
    messages.push({ type: 'trend', points: [point] });
    room.emit('minutes', minutes);
    messages.push({ type: 'minutes', points: minutes });
    const items = dashboard.takeActivity(streamId);
    if (items.length) {
      room.emit('activity', items);
      messages.push({ type: 'activity', items });
    }
    // the funnel and the poll are queries: only when someone is watching the dashboard
    const watched = (nsp.adapter.rooms.get(hostRoom(streamId))?.size ?? 0) > 0 || messageListeners.size > 0;
    if (watched) {
      try {
        const f = await dashboard.funnel(summary, now);
        if (f.changed) {
          room.emit('funnel', f.funnel);
          messages.push({ type: 'funnel', ...f.funnel });
        }
        // a throttled funnel is computed on a later flush, so it is never left stale
        if (f.due !== null) changed(streamId, Math.max(HOST_UPDATE_INTERVAL_MS, f.due - now));
        if (dashboard.pollLive(streamId, now)) {
          const p = await dashboard.pollResults(streamId, now);
          if (p?.changed) {
            room.emit('poll:results', p.results);
            messages.push({ type: 'poll', ...p.results });
          }
        }
      } catch (err) {
        log.error({ err, streamId }, 'dashboard update failed');
      }
    }
    for (const l of listeners) l(streamId);
    for (const l of messageListeners) l(streamId, messages);
  }

  /** Everything a new host (or feed consumer) gets on connect, in order. */
  async function initial(streamId: string): Promise<FeedMessage[]> {
    await dashboard.ready(streamId);
    const summary = await engine.summary(streamId);
    if (!summary) return [];
    const now = clock();
    const messages: FeedMessage[] = [{ type: 'snapshot', ...summary }];
    try {
      messages.push({ type: 'funnel', ...(await dashboard.funnel(summary, now, true)).funnel });
      dashboard.sample(summary, now);
      messages.push({ type: 'trend', points: dashboard.trend(streamId) });
      messages.push({ type: 'activity', items: dashboard.recentActivity(streamId) });
      messages.push({ type: 'minutes', points: dashboard.minutes(streamId) });
      const poll = await dashboard.pollResults(streamId, now);
      if (poll) messages.push({ type: 'poll', ...poll.results });
    } catch (err) {
      log.error({ err, streamId }, 'dashboard snapshot failed');
    }
    return messages;
  }

  /** Sends the feed messages to one host socket as socket.io events. */
  function emitTo(socket: HostSocket, messages: FeedMessage[]) {
    for (const m of messages) {
      const { type, ...rest } = m;
      if (type === 'snapshot' || type === 'update') socket.emit(type, rest as StreamSummary);
      else if (type === 'funnel') socket.emit('funnel', rest as StreamFunnel);
      else if (type === 'trend') socket.emit('trend', m.points);
      else if (type === 'activity') socket.emit('activity', m.items);
      else if (type === 'minutes') socket.emit('minutes', m.points);
      else if (type === 'poll') socket.emit('poll:results', rest as PollResults);
    }
  }

  nsp.on('connection', (socket: HostSocket) => {
    const { streamId } = socket.data;
    socket.join(hostRoom(streamId));
    initial(streamId).then(
      (messages) => emitTo(socket, messages),
      (err) => {
        log.error({ err, streamId }, 'host snapshot failed');
        socket.disconnect(true);
      },
    );

    // a one-question poll for the stream's viewers
    socket.on('poll:open', async (req: unknown, ack: (res: PollPayload | ErrorAck) => void) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!checkPollOpen.Check(req)) return reply({ error: { code: 'bad_request', message: firstError(checkPollOpen, req, 'invalid poll') } });
      try {
        const now = clock();
        const poll: PollPayload = { id: randomUUID(), question: req.question.trim(), scale: 5, closesAt: now + (req.seconds ?? POLL_DEFAULT_SECONDS) * 1000 };
        await dashboard.openPoll(streamId, poll, now);
        viewerNsp.to(streamRoom(streamId)).emit('poll', poll);
        const results = await dashboard.pollResults(streamId, now);
        if (results) nsp.to(hostRoom(streamId)).emit('poll:results', results.results);
        reply(poll);
        changed(streamId);
      } catch (err) {
        log.error({ err }, 'poll:open failed');
        reply({ error: { code: 'internal', message: 'the poll could not be opened' } });
      }
    });

    socket.on('push', async (req: unknown, ack: (res: HostPushAck) => void) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!checkPush.Check(req)) {
        const e = [...checkPush.Errors(req)][0];
        const where = e?.instancePath.replace(/^\//, '').replaceAll('/', '.');
        return reply({ error: { code: 'bad_request', message: e ? `${where ? where + ' ' : ''}${e.message}` : 'invalid push' } });
      }
      try {
        reply(await engine.pushToTier(streamId, req.tier, req.offer, req.holdoutPercent ?? 0));
      } catch (err) {
        log.error({ err }, 'host push failed');
        reply(unavailable(err) ?? { error: { code: 'internal', message: 'the push failed' } });
      }
    });
  });

  /** stops the update timers and saves the dashboards' unsaved history */
  function close(): Promise<void> {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    return dashboard.close();
  }

  /** streams with a host connected to this process (their rooms here) */
  function watched(): string[] {
    const out: string[] = [];
    for (const [room, members] of nsp.adapter.rooms) if (members.size && room.startsWith('host:')) out.push(room.slice(5));
    return out;
  }

  return {
    changed,
    close,
    dashboard,
    watched,
    /** what a new feed consumer gets first */
    initial,
    onUpdate: (fn: (streamId: string) => void) => (listeners.add(fn), () => listeners.delete(fn)),
    /** every message of every flush, for the raw feed */
    onMessage: (fn: (streamId: string, messages: FeedMessage[]) => void) => (messageListeners.add(fn), () => messageListeners.delete(fn)),
  };
}
