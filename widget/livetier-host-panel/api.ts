/**
 * The REST reads and writes the host panel makes with the host key: top viewers (issue 3's list
 * with `sort`), a viewer's detail, campaigns with their stats, and pause / resume (issue 4).
 * Only the fields the panel shows are typed; the server may send more.
 */
import type { SegmentsData } from './segments.js';
import type { Tier } from '../../server/realtime/events.js';
import type { Explain } from '../../server/tiering/explain.js';
import type { Translations } from '../locale.js';

export interface ViewerListItem {
  id: string;
  tier: Tier;
  lifecycle?: string;
  reasons: string[];
  /** the reasons as codes: the panel words them in its own language */
  explain?: Explain[];
  /** the channel model's prediction (null: no model, or not a buyer) */
  predicted?: { pAlive: number; expectedOrders90d: number; expectedOrderValue: number; clv365d: number; currency: string } | null;
  connected?: boolean;
  stats?: Record<string, number | null>;
  thisStream?: Record<string, number | null>;
}

export interface ViewerDetail extends ViewerListItem {
  scores?: Record<string, number>;
}

/** a host push as GET /v1/streams/:id/pushes lists it */
export interface PushItem {
  id: string;
  at: number;
  tier: string;
  offer: { title: string; discount: { kind: 'percent' | 'amount'; value: number } };
  holdoutPercent: number;
  sent: number;
  held: number;
  delivered: number;
  seen: number;
  clicked: number;
  redeemed: number;
  uplift: NonNullable<NonNullable<CampaignItem['stats']>['uplift']>;
}

export interface CampaignItem {
  id: string;
  name: string;
  /** the name in other languages: the panel shows its language's */
  i18n?: Translations<'name'>;
  status: string;
  adhoc?: boolean;
  budgetLeft: number | null;
  limits?: { budget?: number };
  stats?: {
    issued: number;
    delivered: number;
    seen: number;
    clicked: number;
    redeemed: number;
    control?: number;
    treatedConversion?: number | null;
    controlConversion?: number | null;
    uplift?: {
      absolute: number | null;
      ci95: [number, number] | null;
      n?: { treated: number; control: number };
      enoughData?: boolean;
    };
  };
  issued?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class HostApi {
  constructor(
    private readonly server: string,
    private readonly streamId: string,
    private readonly hostKey: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.server.replace(/\/+$/, '')}/v1/streams/${encodeURIComponent(this.streamId)}${path}`;
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${this.hostKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, (json as { message?: string } | null)?.message ?? `HTTP ${res.status}`);
    return json as T;
  }

  async topViewers(sort: 'value' | 'engagement' | 'predicted', limit = 5): Promise<ViewerListItem[]> {
    return (await this.call<{ viewers: ViewerListItem[] }>('GET', `/viewers?sort=${sort}&limit=${limit}`)).viewers;
  }

  viewer(id: string): Promise<ViewerDetail> {
    return this.call<ViewerDetail>('GET', `/viewers/${encodeURIComponent(id)}`);
  }

  /** the campaigns, without the host's pushes (they are `pushes()`) */
  async campaigns(): Promise<CampaignItem[]> {
    return (await this.call<{ campaigns: CampaignItem[] }>('GET', '/campaigns?adhoc=false')).campaigns;
  }

  /** the segments the channel's model found (traits in `lang`) */
  segments(lang: string): Promise<SegmentsData> {
    return this.call<SegmentsData>('GET', `/segments?lang=${encodeURIComponent(lang)}`);
  }

  /** the newest pushes with their funnel and uplift */
  async pushes(limit = 20): Promise<PushItem[]> {
    return (await this.call<{ pushes: PushItem[] }>('GET', `/pushes?limit=${limit}`)).pushes;
  }

  setCampaignStatus(id: string, status: 'active' | 'paused'): Promise<CampaignItem> {
    return this.call<CampaignItem>('PATCH', `/campaigns/${encodeURIComponent(id)}`, { status });
  }
}
