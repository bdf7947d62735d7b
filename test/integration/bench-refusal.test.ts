/**
 * The bench's flood and soak phases stop with the server's reason when their clients cannot connect:
 * client.mjs answers a failed `connect` with `refusal` (the first connect_error), not `error`.
 */
import { describe, it, expect } from 'vitest';
// @ts-expect-error plain .mjs bench modules, no types
import { flood } from '../bench/flood.mjs';
// @ts-expect-error plain .mjs bench modules, no types
import { soak } from '../bench/soak.mjs';

/** a client.mjs child whose viewers are all refused */
const refusedClient = () => ({
  ask: async (msg: { cmd: string; count?: number }) => {
    if (msg.cmd === 'connect') return { cmd: 'connect', connected: 0, failed: msg.count, refusal: 'too_many_connections: this viewer already has 3 connections open', ms: 1 };
    if (msg.cmd === 'latency') return { cmd: 'latency', samples: [1, 2, 3], errors: 0 };
    return { cmd: msg.cmd, ok: true };
  },
});
const server = { url: 'http://127.0.0.1:1', stream: { id: 's1', ingestKey: 'k' }, ask: async () => ({}) };

describe('bench refusals', () => {
  it('flood says why its abusive sockets could not connect', async () => {
    await expect(flood({ server, abusers: [refusedClient()], good: refusedClient(), viewers: 3, abusiveSockets: 2 })).rejects.toThrow(
      'flood: 2 abusive sockets could not connect (too_many_connections: this viewer already has 3 connections open)',
    );
  });

  it('soak says why its viewers could not connect', async () => {
    await expect(soak({ server, clients: [refusedClient()], minutes: 1, viewers: 4 })).rejects.toThrow(
      'soak: 4 viewers could not connect (too_many_connections: this viewer already has 3 connections open)',
    );
  });
});
