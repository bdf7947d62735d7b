/**
 * `npm start` (scripts/start.mjs) as a process: it prints the demo URLs, the demo stream `demo`
 * exists and its simulated audience connects, the host key in the printed URL works, and SIGINT
 * (Ctrl-C) stops the simulator and the server with exit code 0. Uses dist/ (npm test builds first).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { until, TEST_STORE } from '../helpers/server.js';

const root = path.resolve(import.meta.dirname, '..', '..');
let proc: ChildProcess | undefined;
let dir: string | undefined;

afterEach(() => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  proc = undefined;
  dir = undefined;
});

function start(env: Record<string, string>) {
  dir = mkdtempSync(path.join(tmpdir(), 'livetier-start-'));
  const p = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs')], {
    env: { ...process.env, PORT: '0', LIVETIER_DB: path.join(dir, 'demo.db'), DEMO_VIEWERS: '4', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc = p;
  const out = { text: '' };
  p.stdout!.on('data', (d) => (out.text += d));
  p.stderr!.on('data', (d) => (out.text += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  return { p, out, exited };
}

// the demo always runs on an embedded SQLite file of its own: nothing of it changes with the store
describe.skipIf(TEST_STORE !== 'sqlite')('npm start', () => {
  it('prints the viewer and host URLs, runs the demo audience, and stops cleanly on Ctrl-C', async () => {
    const { p, out, exited } = start({});
    // generous limits: it may build first, and CI machines are slow (none of this is a timing assertion)
    await until(() => /Host page:\s+\S+/.test(out.text), 100_000, () => `the URLs (output so far: ${out.text})`);
    const viewerUrl = out.text.match(/Viewer page:\s+(\S+)/)![1]!;
    const hostUrl = new URL(out.text.match(/Host page:\s+(\S+)/)![1]!);
    expect(hostUrl.pathname).toBe('/host/demo');
    const hostKey = new URLSearchParams(hostUrl.hash.slice(1)).get('key')!;
    expect(hostKey).toMatch(/^lt_host_/);

    const page = await fetch(viewerUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<livetier-product');

    // the printed host key opens the demo stream, and the simulated viewers are there
    const summary = async () => (await (await fetch(`${hostUrl.origin}/v1/streams/demo/summary`, { headers: { authorization: `Bearer ${hostKey}` } })).json()) as any;
    await until(async () => (await summary()).connected > 0, 30_000, 'simulated viewers');
    expect((await summary()).streamId).toBe('demo');
    expect(existsSync(path.join(dir!, 'demo.db.keys.json'))).toBe(true);

    p.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.text).toContain('LiveTier demo stopped.');
    await expect(fetch(viewerUrl)).rejects.toThrow();
  }, 180_000);

  it('a PORT that is not a port is refused with a message, nothing left running', async () => {
    const { out, exited } = start({ PORT: 'eighty' });
    expect(await exited).toBe(2);
    expect(out.text).toMatch(/--port must be an integer/);
  }, 120_000);
});
