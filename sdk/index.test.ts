// @vitest-environment happy-dom
/** The public client's consent handling: nothing stored or sent while pending; refusal forgets. */
import { afterEach, describe, expect, it } from 'vitest';
import { init, type LiveTierClient } from './index.js';
import { VIEWER_ID_KEY, queueKey } from './storage.js';

const clients: LiveTierClient[] = [];
// nothing listens on port 9: a granted client's connection attempts fail quietly
const open = (o: Partial<Parameters<typeof init>[0]> = {}) => {
  const c = init({ server: 'http://127.0.0.1:9', stream: 's1', heartbeat: false, ...o });
  clients.push(c);
  return c;
};

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  localStorage.clear();
});

describe('consent', () => {
  it('pending: tracks into memory, writes nothing to storage', () => {
    const lt = open({ consent: 'pending' });
    expect(lt.track('like')).toMatch(/\S/);
    expect(lt.viewerId).toMatch(/^v_/);
    expect(localStorage.length).toBe(0);
  });

  it('consent(true) stores the id and what was tracked meanwhile', () => {
    const lt = open({ consent: 'pending' });
    const id = lt.track('comment', { text: 'hi' });
    lt.consent(true);
    expect(localStorage.getItem(VIEWER_ID_KEY)).toBe(lt.viewerId);
    expect(JSON.parse(localStorage.getItem(queueKey('s1'))!).map((e: { id: string }) => e.id)).toEqual([id]);
  });

  it('consent(false) forgets the stored id and queue, and a new id is made next time', () => {
    const lt = open();
    const first = lt.viewerId;
    lt.track('like');
    expect(localStorage.getItem(VIEWER_ID_KEY)).toBe(first);
    expect(localStorage.getItem(queueKey('s1'))).not.toBeNull();
    lt.consent(false);
    expect(localStorage.getItem(VIEWER_ID_KEY)).toBeNull();
    expect(localStorage.getItem(queueKey('s1'))).toBeNull();
    lt.track('like');
    expect(localStorage.length).toBe(0);
    expect(lt.viewerId).not.toBe(first);
  });

  it('track returns an empty string once closed', () => {
    const lt = open();
    lt.close();
    expect(lt.track('like')).toBe('');
  });
});
