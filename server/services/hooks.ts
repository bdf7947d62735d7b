/**
 * What the services tell the realtime layer: an offer to push, a stream whose host view changed,
 * a line for the host's activity feed. The services do no network I/O; socket.io subscribes here.
 */
import type { OfferRow } from '../store/types.js';
import type { ActivityItem } from '../realtime/events.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** what the services report to the host's activity feed (the realtime layer numbers and keeps them) */
export type ActivityEvent = DistributiveOmit<ActivityItem, 'id'>;

export interface EngineHooks {
  /**
   * an offer to push to its viewer (delivery is the realtime layer's job); `here`: a push's
   * fan-out, sent by each process to its own viewers (cluster mode: no message to the others)
   */
  offer: (offer: OfferRow, here?: boolean) => void;
  /** something a host sees in this stream changed */
  changed: (streamId: string) => void;
  /** a line for the host's activity feed (a purchase, a tier change, a comment) */
  activity: (streamId: string, item: ActivityEvent) => void;
}

/** What other processes hear of this one's changes (cluster mode; see cluster.ts). */
export interface Relay {
  changed(streamId: string, activity?: ActivityEvent): void;
  viewerChanged(channel: string, viewerId: string): void;
}

/** One set of hooks shared by every service; the realtime layer replaces them once at start. */
export class Hooks implements EngineHooks {
  private h: EngineHooks = { offer: () => {}, changed: () => {}, activity: () => {} };
  /** set in cluster mode: changes made here are also told to the other processes */
  relay: Relay | null = null;

  set(hooks: Partial<EngineHooks>) {
    this.h = { ...this.h, ...hooks };
  }

  offer(offer: OfferRow, here = false) {
    this.h.offer(offer, here);
  }

  changed(streamId: string) {
    this.h.changed(streamId);
    this.relay?.changed(streamId);
  }

  activity(streamId: string, item: ActivityEvent) {
    this.h.activity(streamId, item);
    this.relay?.changed(streamId, item);
  }

  /** a viewer's stored facts or tier changed (other processes holding their profile reload it) */
  viewer(channel: string, viewerId: string) {
    this.relay?.viewerChanged(channel, viewerId);
  }
}

export type Clock = () => number;

/** `channel` + NUL + `viewerId`: the key of per-viewer maps (NUL cannot occur in either id) */
export const viewerKey = (channel: string, viewerId: string) => `${channel}\u0000${viewerId}`;
