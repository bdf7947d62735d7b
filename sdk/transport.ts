/**
 * The socket.io side of the SDK: one socket to the `/viewer` namespace. It reports whether
 * sending is possible, sends batches with an acknowledgement and a timeout, and turns the
 * server's `offer` and `hello` into calls on its handlers. It never buffers events itself.
 */
import { io, type Socket } from 'socket.io-client';
import type {
  ErrorAck,
  ErrorCode,
  OfferPayload,
  PollPayload,
  TrackAck,
  TrackEvent,
  ViewerAuth,
  ViewerClientToServerEvents,
  ViewerServerToClientEvents,
} from '../server/realtime/events.js';
import { backoff } from './backoff.js';

export const SOCKET_PATH = '/socket.io/';
/** how long the server has to acknowledge a batch before it counts as failed (and is re-sent) */
export const ACK_TIMEOUT_MS = 10_000;

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'origin_not_allowed',
  'unavailable',
  'internal',
]);
/** handshake refusals that retrying cannot fix: the page must change its stream, origin or token */
const FATAL: ReadonlySet<string> = new Set<ErrorCode>(['bad_request', 'unauthorized', 'forbidden', 'not_found', 'origin_not_allowed']);

export interface LiveTierError {
  code: ErrorCode;
  message: string;
}

export interface Identity {
  viewerId: string;
  verified: boolean;
  serverNow: number;
  /** false: the anonymous id this handshake carried could not be linked (sent again next time) */
  aliased?: false;
}

export interface TransportHandlers {
  /** sending is possible (true) or not (false) */
  online(online: boolean): void;
  /** an offer for this viewer; it is acknowledged to the server once this returns (or its promise settles) */
  offer(offer: OfferPayload): void | Promise<void>;
  hello(info: Identity): void;
  error(err: LiveTierError): void;
  /** the host opened a poll */
  poll(poll: PollPayload): void;
}

export type ViewerSocket = Socket<ViewerServerToClientEvents, ViewerClientToServerEvents>;

export class ViewerTransport {
  readonly socket: ViewerSocket;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private closed = false;
  /** what the handshake sends (the SDK's beacon authenticates the same way) */
  auth: ViewerAuth;

  constructor(server: string, auth: ViewerAuth, private readonly handlers: TransportHandlers) {
    this.auth = auth;
    const socket: ViewerSocket = io(`${server.replace(/\/+$/, '')}/viewer`, {
      path: SOCKET_PATH,
      autoConnect: false,
      transports: ['websocket', 'polling'],
      // a proxy that blocks websockets still gets long-polling
      tryAllTransports: true,
      auth: { ...auth },
      // its own connection: closing or re-identifying never touches another element's socket
      forceNew: true,
    });
    this.socket = socket;

    // every handler is attached before connect(): pending offers arrive right after the handshake
    socket.on('connect', () => {
      this.attempt = 0;
      handlers.online(true);
    });
    socket.on('disconnect', (reason) => {
      handlers.online(false);
      // the server let go on purpose (e.g. a failed join): socket.io will not come back by itself
      if (reason === 'io server disconnect') this.retryLater();
    });
    socket.on('connect_error', (err: Error & { data?: { message?: string } }) => {
      const code = err.message;
      if (ERROR_CODES.has(code)) handlers.error({ code: code as ErrorCode, message: err.data?.message ?? code });
      if (FATAL.has(code)) {
        socket.disconnect();
        return;
      }
      // a refusal by the middleware leaves the socket inactive; network errors are retried by the manager
      if (!socket.active) this.retryLater();
    });
    socket.on('offer', (offer, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      Promise.resolve()
        .then(() => handlers.offer(offer))
        .then(
          () => reply({ ok: true }),
          (err: unknown) => console.error('[livetier] offer listener failed', err),
        );
    });
    socket.on('hello', (info) => handlers.hello(info));
    socket.on('poll', (poll) => handlers.poll(poll));
  }

  connect() {
    if (!this.closed) this.socket.connect();
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Sends one batch; rejects when offline, on timeout or when the connection drops first. */
  send(batch: TrackEvent[]): Promise<TrackAck | ErrorAck> {
    if (!this.socket.connected) return Promise.reject(new Error('not connected'));
    return this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('track', batch);
  }

  /** Reconnects with new credentials (after a login); the server re-reads `auth` on each handshake. */
  reconnect(auth: ViewerAuth) {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.auth = auth;
    this.socket.auth = { ...auth };
    this.socket.disconnect();
    this.socket.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
    this.socket.removeAllListeners();
  }

  private retryLater() {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.closed && !this.socket.active) this.socket.connect();
    }, backoff(this.attempt++));
  }
}
