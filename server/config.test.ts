import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError, DEFAULT_LIMITS } from './config.js';

const gen = () => 'generated-admin-key';

describe('loadConfig', () => {
  it('has defaults and generates an admin key when none is set', () => {
    expect(loadConfig([], {}, gen)).toEqual({
      port: 8080, host: '127.0.0.1', db: './livetier.db', dbPool: 10, redis: null, workers: 1, adminKey: 'generated-admin-key', adminKeyGenerated: true, sync: 'normal', logLevel: 'info',
      retentionDays: 90, limits: DEFAULT_LIMITS, trustProxy: false, metricsPort: null, metricsHost: '127.0.0.1',
      webhooksAllowHttp: false, webhooksDisableAfterHours: 72, streamIdleEndMinutes: 60, modelRefitHours: 6, modelMinBuyers: 200,
    });
  });
  it('reads flags over environment', () => {
    const c = loadConfig(['--port', '9000', '--db', '/tmp/x.db', '--host', '0.0.0.0'], { PORT: '7000', LIVETIER_ADMIN_KEY: 'a-long-enough-admin-key' }, gen);
    expect(c).toMatchObject({ port: 9000, db: '/tmp/x.db', host: '0.0.0.0', adminKey: 'a-long-enough-admin-key', adminKeyGenerated: false });
    expect(loadConfig([], { PORT: '7000' }, gen).port).toBe(7000);
  });
  it('reads retention and limits from flags and environment', () => {
    const c = loadConfig(['--retention-days', '7', '--limit-events-per-second', '5'], { LIVETIER_LIMIT_EVENTS_PER_SECOND: '9', LIVETIER_LIMIT_REST_PER_MINUTE: '0' }, gen);
    expect(c.retentionDays).toBe(7);
    expect(c.limits).toEqual({ ...DEFAULT_LIMITS, eventsPerSecond: 5, restPerMinute: 0 });
    expect(loadConfig([], { LIVETIER_RETENTION_DAYS: '0' }, gen).retentionDays).toBe(0);
  });
  it('reads --trust-proxy: off, a hop count or a list of addresses / CIDRs', () => {
    expect(loadConfig(['--trust-proxy', '0'], {}, gen).trustProxy).toBe(false);
    expect(loadConfig([], { LIVETIER_TRUST_PROXY: 'false' }, gen).trustProxy).toBe(false);
    expect(loadConfig([], { LIVETIER_TRUST_PROXY: '2' }, gen).trustProxy).toBe(2);
    expect(loadConfig(['--trust-proxy', '10.0.0.1, 192.168.0.0/16,loopback'], { LIVETIER_TRUST_PROXY: '1' }, gen).trustProxy).toEqual(['10.0.0.1', '192.168.0.0/16', 'loopback']);
    expect(() => loadConfig(['--trust-proxy', 'my-proxy.example'], {}, gen)).toThrow(/--trust-proxy/);
  });
  it('reads --metrics-port and --metrics-host from flags and environment (loopback by default)', () => {
    expect(loadConfig(['--metrics-port', '9464'], {}, gen)).toMatchObject({ metricsPort: 9464, metricsHost: '127.0.0.1' });
    expect(loadConfig(['--metrics-port', '0'], {}, gen).metricsPort).toBe(0); // any free port (printed at start)
    expect(loadConfig([], { LIVETIER_METRICS_PORT: '9100', LIVETIER_METRICS_HOST: '10.0.0.5' }, gen)).toMatchObject({ metricsPort: 9100, metricsHost: '10.0.0.5' });
    expect(loadConfig(['--metrics-port', '9200', '--metrics-host', '0.0.0.0'], { LIVETIER_METRICS_PORT: '9100', LIVETIER_METRICS_HOST: '10.0.0.5' }, gen)).toMatchObject({
      metricsPort: 9200,
      metricsHost: '0.0.0.0',
    });
    // an empty variable is unset; the host variable alone is ignored (templates set it whether or not the port is)
    expect(loadConfig([], { LIVETIER_METRICS_PORT: '' }, gen).metricsPort).toBeNull();
    expect(loadConfig([], { LIVETIER_METRICS_HOST: '0.0.0.0' }, gen).metricsPort).toBeNull();
  });
  it('refuses bad metrics flags with a message', () => {
    expect(() => loadConfig(['--metrics-port', 'ninety'], {}, gen)).toThrow(/--metrics-port must be an integer 0-65535/);
    expect(() => loadConfig(['--metrics-port', '70000'], {}, gen)).toThrow(/--metrics-port/);
    expect(() => loadConfig(['--metrics-port=-1'], {}, gen)).toThrow(ConfigError);
    expect(() => loadConfig([], { LIVETIER_METRICS_PORT: '1e3' }, gen)).toThrow(/--metrics-port/);
    expect(() => loadConfig(['--port', '9000', '--metrics-port', '9000'], {}, gen)).toThrow(/must differ from --port/);
    expect(() => loadConfig(['--metrics-host', '0.0.0.0'], {}, gen)).toThrow(/--metrics-host needs --metrics-port/);
    expect(() => loadConfig(['--metrics-port', '9464', '--metrics-host', ' '], {}, gen)).toThrow(/--metrics-host/);
  });
  it('refuses bad values with a message', () => {
    expect(() => loadConfig(['--port', 'eighty'], {}, gen)).toThrow(ConfigError);
    expect(() => loadConfig(['--sync', 'maybe'], {}, gen)).toThrow(/--sync/);
    expect(() => loadConfig([], { LIVETIER_ADMIN_KEY: 'short' }, gen)).toThrow(/16 characters/);
    expect(() => loadConfig(['--nope'], {}, gen)).toThrow();
    expect(() => loadConfig(['--retention-days', '-1'], {}, gen)).toThrow(/--retention-days/);
    expect(() => loadConfig([], { LIVETIER_LIMIT_CONNECTIONS_PER_VIEWER: 'many' }, gen)).toThrow(/--limit-connections-per-viewer/);
    expect(() => loadConfig(['--model-refit-hours', 'often'], {}, gen)).toThrow(/--model-refit-hours/);
    expect(() => loadConfig(['--model-min-buyers', '5'], {}, gen)).toThrow(/--model-min-buyers must be at least 10/);
  });

  it('reads the model flags from flags and environment', () => {
    expect(loadConfig(['--model-refit-hours', '0'], { LIVETIER_MODEL_MIN_BUYERS: '50' }, gen)).toMatchObject({ modelRefitHours: 0, modelMinBuyers: 50 });
  });
});
