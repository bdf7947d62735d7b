#!/usr/bin/env node
// `npm start`: build if needed, start LiveTier on an embedded SQLite file with a demo stream
// (id `demo`), start a simulated audience, and print the demo URLs. Ctrl-C stops everything.
import { fork } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ensureBuilt, root } from './ensure-built.mjs';

process.chdir(root);
ensureBuilt();

const port = process.env.PORT ?? '8080';
const dbFile = process.env.LIVETIER_DB ?? path.join(root, 'livetier-demo.db');
const keysFile = `${dbFile}.keys.json`;
let keys = existsSync(keysFile) && existsSync(dbFile) ? JSON.parse(readFileSync(keysFile, 'utf8')) : null;
if (!keys) {
  // the demo's keys are kept beside its database; without them the old demo data is useless
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  keys = { adminKey: process.env.LIVETIER_ADMIN_KEY ?? `lt_admin_${randomBytes(24).toString('base64url')}` };
}

const { serve, installShutdown } = await import('../dist/server/main.js');
const { loadConfig } = await import('../dist/server/config.js');
// the server's own config loader: every other LIVETIER_* setting of the environment still applies
let config;
try {
  config = loadConfig(['--port', String(port), '--db', dbFile], { LOG_LEVEL: 'warn', ...process.env, LIVETIER_ADMIN_KEY: keys.adminKey }, () => keys.adminKey);
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
const running = await serve(config).catch((err) => {
  if (err.code === 'EADDRINUSE') {
    console.error(`port ${port} is already in use: stop what runs there, or start the demo with PORT=8081 npm start`);
    process.exit(1);
  }
  throw err;
});

if (!keys.stream) {
  const res = await fetch(`${running.url}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.adminKey}` },
    body: JSON.stringify({ id: 'demo', title: 'LiveTier demo: spring tea & silk', channel: 'demo-shop' }),
  });
  if (res.status !== 201) throw new Error(`could not create the demo stream: ${res.status} ${await res.text()}`);
  keys.stream = await res.json();
  writeFileSync(keysFile, JSON.stringify(keys, null, 2), { mode: 0o600 });
}

// 200 viewers, and the demo's campaigns holding half of their viewers back: within about five
// minutes a campaign has enough viewers in each arm for the host panel to show its uplift and 95%
// interval (with 40 viewers it takes longer than ten)
const viewers = process.env.DEMO_VIEWERS ?? '200';
const sim = fork(path.join(root, 'dist/demo/simulate.js'), [
  '--server', running.url, '--stream', 'demo', '--ingest-key', keys.stream.ingestKey, '--host-key', keys.stream.hostKey, '--viewers', viewers,
  '--holdout', '50', '--quiet',
], { stdio: 'inherit' });

console.log(`
LiveTier demo is running.

  Viewer page:  ${running.url}/demo/
  Host page:    ${running.url}/host/demo#key=${keys.stream.hostKey}

  Admin key:    ${keys.adminKey}
  Ingest key:   ${keys.stream.ingestKey}
  Database:     ${dbFile}

A simulated audience of ${viewers} viewers is watching, chatting and buying; the campaigns hold half
of their viewers back, so the host page shows their uplift within minutes. Ctrl-C stops everything.
`);

// the simulator leaves first (its viewers flush and disconnect), then the server closes
const simExited = new Promise((resolve) => sim.once('exit', resolve));
sim.once('exit', (code) => {
  if (!stopping && code) console.error(`the audience simulator exited with code ${code}; the server keeps running`);
});
let stopping = false;
installShutdown({
  close: async () => {
    stopping = true;
    if (sim.exitCode === null) {
      sim.send('stop');
      await Promise.race([simExited, new Promise((r) => setTimeout(r, 3000))]);
      if (sim.exitCode === null) sim.kill('SIGKILL');
    }
    await running.close();
    console.log('LiveTier demo stopped.');
  },
});
