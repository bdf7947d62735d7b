/**
 * The host panel's socket to the `/host` namespace as a lifecycle: opened when the element is
 * connected with `server`, `stream` and `host-key`, reopened when they change, closed when the
 * element leaves the page. It keeps the latest summary and the connection's status.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { io, type Socket } from 'socket.io-client';
import type { ErrorAck, ErrorCode, HostAuth, HostClientToServerEvents, HostPushAck, HostPushRequest, HostServerToClientEvents, PollOpenRequest, PollPayload, StreamSummary } from '../../server/realtime/events.js';

/** the dashboard's live data beside the summary (issue 6) */
export type DashboardListeners = Partial<Pick<HostServerToClientEvents, 'funnel' | 'activity' | 'trend' | 'minutes' | 'poll:results'>>;
import { ACK_TIMEOUT_MS, SOCKET_PATH } from '../../sdk/transport.js';
import { backoff } from '../../sdk/backoff.js';

export type HostSocket = Socket<HostServerToClientEvents, HostClientToServerEvents>;
export type HostStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'refused';
/** why the panel is not live: a handshake refusal code, or the network */
export type HostProblem = ErrorCode | 'network' | null;

export interface HostConfig extends HostAuth {
  server: string;
}

/** refusals that retrying cannot fix */
const FATAL: ReadonlySet<string> = new Set<ErrorCode>(['bad_request', 'unauthorized', 'forbidden', 'not_found', 'origin_not_allowed']);

export class HostConnection implements ReactiveController {
  status: HostStatus = 'idle';
  problem: HostProblem = null;
  private socket: HostSocket | null = null;
  private key = '';
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly config: () => HostConfig | null,
    private readonly onSummary: (summary: StreamSummary) => void,
    /** the handshake was refused for good (wrong key, unknown stream…) */
    private readonly onRefused: (code: ErrorCode, message: string) => void = () => {},
    private readonly dashboard: DashboardListeners = {},
  ) {
    host.addController(this);
  }

  hostConnected() {
    this.sync();
  }

  hostUpdate() {
    this.sync();
  }

  hostDisconnected() {
    this.close();
    this.key = '';
  }

  /** Pushes an offer to a tier; resolves with the server's ack (errors become error acks). */
  async push(req: HostPushRequest): Promise<HostPushAck> {
    if (!this.socket?.connected) return { error: { code: 'unavailable', message: 'not connected' } };
    try {
      return await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('push', req);
    } catch {
      return { error: { code: 'unavailable', message: 'no answer from the server' } };
    }
  }

  /** Opens a poll for the stream's viewers (issue 6). */
  async openPoll(req: PollOpenRequest): Promise<PollPayload | ErrorAck> {
    if (!this.socket?.connected) return { error: { code: 'unavailable', message: 'not connected' } };
    try {
      return await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('poll:open', req);
    } catch {
      return { error: { code: 'unavailable', message: 'no answer from the server' } };
    }
  }

  private sync() {
    const config = this.config();
    const key = config ? JSON.stringify(config) : '';
    if (key === this.key) return;
    this.key = key;
    this.close();
    if (config) this.open(config);
  }

  private open({ server, streamId, hostKey }: HostConfig) {
    const socket: HostSocket = io(`${server.replace(/\/+$/, '')}/host`, {
      path: SOCKET_PATH,
      autoConnect: false,
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      auth: { streamId, hostKey } satisfies HostAuth,
      // its own connection: closing or re-identifying never touches another element's socket
      forceNew: true,
    });
    this.socket = socket;
    // handlers first: the snapshot comes right after the handshake
    socket.on('snapshot', this.onSummary);
    socket.on('update', this.onSummary);
    for (const [event, fn] of Object.entries(this.dashboard)) socket.on(event as keyof DashboardListeners, fn as never);
    socket.on('connect', () => {
      this.attempt = 0;
      this.set('live', null);
    });
    socket.on('disconnect', (reason) => {
      this.set('reconnecting', 'network');
      if (reason === 'io server disconnect') this.retryLater(socket);
    });
    socket.on('connect_error', (err: Error & { data?: { message?: string } }) => {
      const code = err.message;
      if (FATAL.has(code)) {
        socket.disconnect();
        this.set('refused', code as ErrorCode);
        this.onRefused(code as ErrorCode, err.data?.message ?? code);
        return;
      }
      this.set('reconnecting', 'network');
      if (!socket.active) this.retryLater(socket);
    });
    this.set('connecting', null);
    socket.connect();
  }

  private retryLater(socket: HostSocket) {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.socket === socket && !socket.active) socket.connect();
    }, backoff(this.attempt++));
  }

  private close() {
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
    this.set('idle', null);
  }

  private set(status: HostStatus, problem: HostProblem) {
    if (this.status === status && this.problem === problem) return;
    this.status = status;
    this.problem = problem;
    this.host.requestUpdate();
  }
}
