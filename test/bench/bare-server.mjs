// The baseline: a bare socket.io server with the same namespaces and handshake shape that does
// nothing but answer. `track` acks the same shape without validating, storing or tiering;
// a host `push` is one room broadcast of one payload; viewers get `hello` on connect.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { installProbe } from './probe.mjs';

const http = createServer();
const io = new Server(http, { serveClient: false });
io.of('/viewer').on('connection', (socket) => {
  socket.join('tier:potential');
  socket.on('track', (events, ack) => {
    if (typeof ack !== 'function') return;
    ack(Array.isArray(events) ? { accepted: events.length, duplicates: 0, rejected: [] } : { error: { code: 'bad_request', message: 'not an array' } });
  });
  socket.emit('hello', { viewerId: socket.handshake.auth?.viewerId, verified: false, serverNow: Date.now() });
});
io.of('/host').on('connection', (socket) => {
  socket.on('push', (req, ack) => {
    const now = Date.now();
    io.of('/viewer').to(`tier:${req.tier}`).emit('offer', {
      id: `bare-${now}`, code: 'ABCDEFGHJK', title: req.offer.title, discount: req.offer.discount,
      currency: 'CNY', expiresAt: now + req.offer.ttlSeconds * 1000, serverNow: now, campaign: 'host',
    });
    ack({ sent: io.of('/viewer').adapter.rooms.get(`tier:${req.tier}`)?.size ?? 0, skipped: 0 });
  });
});
http.listen(0, '127.0.0.1', () => {
  installProbe();
  process.send({ ready: true, url: `http://127.0.0.1:${http.address().port}` });
});
process.on('message', (msg) => {
  if (msg === 'close') {
    io.close();
    process.exit(0);
  }
});
