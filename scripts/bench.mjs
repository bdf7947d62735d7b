#!/usr/bin/env node
// `npm run bench [-- --quick]`: builds if needed, raises the open-files limit (10,000 sockets need
// as many descriptors in the server and across the load generators), then runs test/bench/run.mjs
// with the orchestrator on core 1 (the server under test gets core 0, see run.mjs).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureBuilt, root } from './ensure-built.mjs';

ensureBuilt();
const run = path.join(root, 'test', 'bench', 'run.mjs');
const args = process.argv.slice(2).map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
const pin = spawnSync('taskset', ['-c', '1', 'true']).status === 0 ? 'taskset -c 1 ' : '';
// the soft limit goes up to the hard one (at least 12,000 wanted); the bench says so if it cannot
const script = `n=$(ulimit -Hn); [ "$n" = unlimited ] && n=65536; [ "$n" -gt 65536 ] && n=65536; ulimit -n "$n" 2>/dev/null; ` +
  `[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ] && echo "bench: open-files limit is $(ulimit -n); 10,000 connections may fail (raise ulimit -n)" >&2; ` +
  `exec ${pin}"${process.execPath}" "${run}" ${args}`;
const r = spawnSync('sh', ['-c', script], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
