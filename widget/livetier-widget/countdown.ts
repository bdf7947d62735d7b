/**
 * A ticking clock for countdowns. It runs only while the host is connected and `active()` says
 * something is counting down, and calls `tick(now)` once a second (the host then re-renders).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class CountdownController implements ReactiveController {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    host: ReactiveControllerHost,
    private readonly active: () => boolean,
    private readonly tick: (now: number) => void,
    private readonly interval = 1000,
  ) {
    host.addController(this);
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  hostConnected() {
    this.sync();
  }

  hostUpdated() {
    this.sync();
  }

  hostDisconnected() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sync() {
    if (!this.active()) return this.hostDisconnected();
    this.timer ??= setInterval(() => this.tick(Date.now()), this.interval);
  }
}
