/**
 * Fault injection for the crash tests: with `LIVETIER_FAULT=<point>` in its environment, the
 * process kills itself (SIGKILL, as a power cut or an OOM kill would) when it reaches that point,
 * so a test can crash it between two steps deterministically. Unset in production; a point costs
 * one comparison.
 */
const armed = process.env.LIVETIER_FAULT;

export type FaultPoint = 'after-purchase-commit';

export function fault(point: FaultPoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
