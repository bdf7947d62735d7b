// The LiveTier server under test, from dist/ (the orchestrator builds first), on an ephemeral port
// with the database it is given (`--db`: a temporary SQLite file, or a postgres:// URL of a throwaway
// database, which the server migrates like any empty one). Rate limits are off (the bench measures capacity),
// except with the third argument `limits` (the flood run).
import { installProbe } from './probe.mjs';

const [db, adminKey, mode] = process.argv.slice(2); // mode `limits`: keep the default rate limits (the flood run)
const { serve } = await import('../../dist/server/main.js');
const { loadConfig } = await import('../../dist/server/config.js');
const limitsOff = ['--limit-events-per-second', '0', '--limit-events-burst', '0', '--limit-inflight-tracks', '0', '--limit-connections-per-minute', '0',
  '--limit-connections-per-viewer', '0', '--limit-rest-per-minute', '0', '--limit-buffered-packets', '0'];
const env = { LIVETIER_ADMIN_KEY: adminKey, LOG_LEVEL: 'error' };
let config;
try {
  config = loadConfig(['--port', '0', '--db', db, ...(mode === 'limits' ? [] : limitsOff)], env, () => adminKey);
} catch {
  config = loadConfig(['--port', '0', '--db', db], env, () => adminKey); // a server without those limits
}
const running = await serve(config);
installProbe();
// `{ cmd: 'profile', on: true|false, file }`: a CPU profile of just the span between the two (node:inspector)
let session = null;
async function profile(msg) {
  const { Session } = await import('node:inspector/promises');
  if (msg.on) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    return;
  }
  const { profile: p } = await session.post('Profiler.stop');
  (await import('node:fs')).writeFileSync(msg.file, JSON.stringify(p));
  session.disconnect();
  session = null;
}

process.on('message', async (msg) => {
  if (msg?.cmd === 'profile') {
    await profile(msg).then(() => process.send({ cmd: 'profile' }), (err) => process.send({ cmd: 'profile', error: String(err) }));
    return;
  }
  if (msg === 'close') {
    await running.close();
    process.exit(0);
  }
});
process.send({ ready: true, url: running.url });
