/**
 * Issue 8: backpressure on socket.io consumers. A socket whose client stopped reading keeps its
 * outgoing packets in engine.io's write buffer; past `max` packets it is dropped at once (its
 * client reconnects and gets a fresh snapshot, or resends what was not acked) rather than
 * buffered without bound.
 */
import type { Socket } from 'socket.io';

/** packets waiting in the socket's engine.io write buffer */
export function bufferedPackets(socket: Pick<Socket, 'conn'>): number {
  return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
}

/** true when `max` > 0 and more than `max` packets wait */
export function stalled(socket: Pick<Socket, 'conn'>, max: number): boolean {
  return max > 0 && bufferedPackets(socket) > max;
}

/** Drops the connection now, discarding what is buffered (waiting for it to drain would never end). */
export function dropNow(socket: Pick<Socket, 'conn'>): void {
  const ws = (socket.conn.transport as unknown as { socket?: { terminate?: () => void } }).socket;
  socket.conn.close(true);
  ws?.terminate?.();
}
