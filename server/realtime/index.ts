/**
 * socket.io on the Fastify server's port: the `/viewer` and `/host` namespaces.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, Clock } from '../engine.js';
import type { Store } from '../store/types.js';
import { createViewerHandlers, type RealtimeObserver, type ViewerNamespace } from './handlers/viewer.js';
import { createHostHandlers, type HostNamespace } from './handlers/host.js';
// flood limits
import { DEFAULT_LIMITS, type Limits } from '../config.js';
import { WindowCounter } from './limits.js';
import { authError } from './auth.js';
import { trustFn, clientAddress, type TrustProxy } from '../trust-proxy.js';

export const SOCKET_IO_PATH = '/socket.io/';
/** the largest socket.io message accepted; bigger ones close that connection, nothing else */
export const MAX_SOCKET_MESSAGE_BYTES = 256 * 1024;

export function attachRealtime(
  http: HttpServer,
  deps: {
    engine: Engine;
    store: Store;
    clock: Clock;
    log: FastifyBaseLogger;
    limits?: Limits;
    trustProxy?: TrustProxy;
    /** cluster mode: socket.io's Redis adapter (rooms, broadcasts and acks across processes) */
    adapter?: ServerOptions['adapter'];
    /** metrics: tracked events and offers, counted by the /viewer namespace (server/metrics.ts) */
    observer?: RealtimeObserver;
  },
) {
  // new engine sessions and namespace connections per IP per minute; none while shutting down
  const limits = deps.limits ?? DEFAULT_LIMITS;
  // engine sessions get twice the namespace allowance: the namespace check answers first, with a clear code
  const sessionsPerIp = new WindowCounter(limits.connectionsPerMinute * 2, 60_000);
  const connectsPerIp = new WindowCounter(limits.connectionsPerMinute, 60_000);
  // the client behind trusted proxies (X-Forwarded-For), by the same rule as Fastify's request.ip
  const trust = trustFn(deps.trustProxy ?? false);
  let closing = false;
  const io = new Server(http, {
    allowRequest: (req, callback) => {
      if (closing) return callback('server shutting down', false);
      callback(null, sessionsPerIp.hit(clientAddress(req, trust), Date.now()));
    },
    path: SOCKET_IO_PATH,
    serveClient: false,
    // origins are checked per stream in the namespace middleware; CORS here only lets browsers ask
    cors: { origin: true, credentials: false },
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
    // upgrades for other paths belong to @fastify/websocket (see app.ts): do not destroy them
    destroyUpgrade: false,
    pingInterval: 20_000,
    pingTimeout: 20_000,
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
  });
  for (const nsp of [io.of('/viewer'), io.of('/host')]) {
    nsp.use((socket, next) => {
      if (closing) return next(authError('unavailable', 'the server is shutting down; reconnect shortly'));
      if (connectsPerIp.hit(clientAddress(socket.request, trust), Date.now())) return next();
      next(authError('rate_limited', `more than ${limits.connectionsPerMinute} new connections per minute from this address`));
    });
  }
  const viewers = createViewerHandlers({ nsp: io.of('/viewer') as ViewerNamespace, ...deps, limits, cluster: !!deps.adapter });
  const hosts = createHostHandlers({ nsp: io.of('/host') as HostNamespace, ...deps, limits });
  deps.engine.setHooks({ offer: viewers.deliver, changed: hosts.changed });
  /** refuses new connections, commits every queued write and lets the acks go out (shutdown, before io.close) */
  async function drain() {
    closing = true;
    // what was queued when the shutdown began; connected clients may keep sending until their
    // transports close, and what they send is committed by the writer's close (acks may not reach
    // them then: they resend to the next server, which dedupes)
    await deps.engine.writer.flushQueued();
    await new Promise((r) => setImmediate(r));
  }
  return { io, hosts, drain };
}
