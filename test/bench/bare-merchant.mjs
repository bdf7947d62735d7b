// The merchant API's baseline: a bare Fastify route `POST /v1/purchases` with LiveTier's own body
// schema (PurchaseBody, the same TypeBox type provider), a bearer key compared, and the body
// answered with 201 and the stream id: what a web framework costs for this request, without
// storing, tiering or issuing anything.
import Fastify from 'fastify';
import { installProbe } from './probe.mjs';

const { PurchaseBody } = await import('../../dist/server/routes/schemas.js');
const app = Fastify({ logger: false });
app.post('/v1/purchases', { schema: { body: PurchaseBody } }, async (req, reply) => {
  if (req.headers.authorization !== 'Bearer bare') return reply.code(401).send({ statusCode: 401, error: 'unauthorized', message: 'missing or unknown key' });
  reply.code(201);
  return { ...req.body, items: req.body.items ?? null, couponCode: req.body.couponCode ?? null, at: Date.now(), streamId: 'bench' };
});
await app.listen({ port: 0, host: '127.0.0.1' });
installProbe();
process.send({ ready: true, url: `http://127.0.0.1:${app.server.address().port}` });
process.on('message', async (msg) => {
  if (msg === 'close') {
    await app.close();
    process.exit(0);
  }
});
