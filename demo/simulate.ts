/** CLI of the audience simulator: `npm run simulate -- --help` for the flags. */
import { existsSync, readFileSync } from 'node:fs';
import { createStream, parseOptions, Simulator, type Options } from './simulator.js';

const USAGE = `usage: npm run simulate -- [--server http://127.0.0.1:8080] [--stream demo] --ingest-key KEY [--host-key KEY]
                            [--admin-key KEY] [--viewers 40] [--minutes 0] [--speed 1] [--mix 0.05,0.30] [--holdout 0]
                            [--quiet] [--json]

  --server      the LiveTier server (default http://127.0.0.1:8080)
  --stream      the stream id (default demo)
  --ingest-key  the stream's ingest key (or LIVETIER_INGEST_KEY): viewer tokens and verified purchases;
                without keys, the demo's from ./livetier-demo.db.keys.json (written by npm start)
  --host-key    the stream's host key (or LIVETIER_HOST_KEY): the host pushes a deal every 30 s
  --admin-key   instead of the two keys above: create a new stream (or LIVETIER_ADMIN_KEY)
  --viewers     viewers watching at any time (default 40); they leave and new ones arrive
  --minutes     stop after this many minutes (default 0: run until Ctrl-C)
  --speed       time compression, e.g. 10 makes every pause ten times shorter (default 1)
  --mix         shares of loyal and deal viewers, the rest watch and chat (default 0.05,0.30)
  --holdout     with --host-key: each campaign of the stream that holds back no viewers holds back
                this percent (1–90), so the host panel measures its uplift (default 0: leave them)
  --quiet       no progress lines
  --json        print the final counts as one JSON line on stdout`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}

/** Without keys, the demo's own (`npm start` keeps them in livetier-demo.db.keys.json) when they are here. */
function demoKeys(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = `${env.LIVETIER_DB ?? 'livetier-demo.db'}.keys.json`;
  if (env.LIVETIER_INGEST_KEY || env.LIVETIER_ADMIN_KEY || !existsSync(file)) return env;
  try {
    const keys = JSON.parse(readFileSync(file, 'utf8'));
    return { ...env, LIVETIER_INGEST_KEY: keys.stream?.ingestKey, LIVETIER_HOST_KEY: env.LIVETIER_HOST_KEY ?? keys.stream?.hostKey };
  } catch {
    return env;
  }
}

let sim: Simulator;
let json = false;
try {
  const cli = parseOptions(process.argv.slice(2), demoKeys(process.env));
  json = cli.json;
  let { ingestKey, hostKey, stream } = cli;
  if (!ingestKey) {
    const created = await createStream(cli.server, cli.adminKey!, stream);
    ({ ingestKey, hostKey, id: stream } = created);
    if (!cli.quiet) console.log(`[simulator] created stream ${stream}; host page: ${cli.server}/host/${stream}#key=${hostKey}`);
  }
  const opts: Options = { ...cli, ingestKey, hostKey, stream };
  sim = new Simulator(opts);
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const stop = () => void sim.stop();
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('message', (m) => m === 'stop' && stop());
await sim.start();
await sim.done;
if (json) console.log(JSON.stringify(sim.stats));
process.exit(0);
