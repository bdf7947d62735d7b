/** CLI of the audience simulator: `npm run simulate -- --help` for the flags. */
import { parseOptions, Simulator } from './simulator.js';

let sim: Simulator;
try {
  sim = new Simulator(parseOptions(process.argv.slice(2)));
} catch (err) {
  console.error(`${(err as Error).message}
usage: npm run simulate -- --server URL --stream ID --ingest-key KEY [--host-key KEY] [--viewers 40] [--minutes 0] [--quiet]`);
  process.exit(2);
}
const stop = () => void sim.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('message', (m) => m === 'stop' && stop());
await sim.start();
