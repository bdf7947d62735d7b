/**
 * socket.io on the Fastify server's port: the `/viewer` and `/host` namespaces.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import type { Engine, Clock } from '../engine.js';
import type { Repo } from '../store/repo.js';
import { createViewerHandlers, type ViewerNamespace } from './handlers/viewer.js';
import { createHostHandlers, type HostNamespace } from './handlers/host.js';

export const SOCKET_IO_PATH = '/socket.io/';
/** the largest socket.io message accepted; bigger ones close that connection, nothing else */
export const MAX_SOCKET_MESSAGE_BYTES = 256 * 1024;

export function attachRealtime(http: HttpServer, deps: { engine: Engine; repo: Repo; clock: Clock; log: FastifyBaseLogger }) {
  const io = new Server(http, {
    path: SOCKET_IO_PATH,
    serveClient: false,
    // origins are checked per stream in the namespace middleware; CORS here only lets browsers ask
    cors: { origin: true, credentials: false },
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
    // upgrades for other paths belong to @fastify/websocket (see app.ts): do not destroy them
    destroyUpgrade: false,
    pingInterval: 20_000,
    pingTimeout: 20_000,
  });
  const viewers = createViewerHandlers({ nsp: io.of('/viewer') as ViewerNamespace, ...deps });
  const hosts = createHostHandlers({ nsp: io.of('/host') as HostNamespace, ...deps });
  deps.engine.setHooks({ offer: viewers.deliver, changed: hosts.changed });
  return { io, hosts };
}
