/**
 * The real server as a child process (`node bin/livetier.js serve`), for tests that kill it:
 * `kill -9` mid-load, SIGTERM, restart on the same file and port. Uses the built server
 * (dist/server): `npm test` builds first; alone, run `npx tsc -p tsconfig.build.json`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { httpApi, type Api } from './http.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/livetier.js', import.meta.url));
export const CHILD_ADMIN_KEY = 'child-admin-key-0123456789';

export function haveBuild(): boolean {
  return existsSync(fileURLToPath(new URL('../../dist/server/main.js', import.meta.url)));
}

export interface Child {
  proc: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  /** resolves with the exit code (or signal name) */
  exited: Promise<number | string>;
  api: Api;
}

/** Starts `livetier serve` and resolves once it listens. */
export function spawnServer(opts: { db: string; port?: number; args?: string[]; env?: Record<string, string> }): Promise<Child> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--db', opts.db, '--port', String(opts.port ?? 0), '--log-level', 'warn', ...(opts.args ?? [])], {
    cwd: REPO,
    env: { ...process.env, LIVETIER_ADMIN_KEY: CHILD_ADMIN_KEY, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000);
    const onData = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      const url = m[1]!.replace('localhost', '127.0.0.1');
      const port = Number(new URL(url).port);
      const api = httpApi(url);
      resolve({ proc, url, port, output: () => out, exited, api });
    };
    proc.stdout!.on('data', onData);
    exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
