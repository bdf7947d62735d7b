/**
 * A viewer's cached profile (the tier model's ViewerState plus the live results) and the queued
 * write of their tier. Both hold the viewer's last assessment and make its scores and reasons only
 * when read: a host or an API call, a webhook, or the commit that stores the viewer's row.
 */
import type { IngestJob } from '../store/types.js';
import type { Lifecycle, Tier } from '../realtime/events.js';
import { Assessment } from '../tiering/assessment.js';
import type { Scores } from '../tiering/rfm.js';
import type { ViewerState } from '../tiering/state.js';
import type { Explain } from '../tiering/explain.js';
import type { WebhookEvent } from '../webhooks/events.js';

export type ReasonsJob = Extract<IngestJob, { kind: 'reasons' }>;

/** A viewer's cached state in one channel: the model's ViewerState plus the live results. */
export interface Profile extends ViewerState {
  channel: string;
  viewerId: string;
  tier: Tier;
  lifecycle: Lifecycle;
  /** the last assessment (its scores and reasons are made when read), or the reasons stored with the row */
  assessed: Assessment | { readonly explain: Explain[] };
  readonly scores: Scores;
  /** why the tier and lifecycle, as codes (server/tiering/explain.ts) */
  readonly explain: Explain[];
  currency: string;
  /** streams this viewer has at least one socket in */
  streams: Set<string>;
  /** false while the viewer has no stored row (a first visit not committed yet) */
  stored: boolean;
}

const NO_SCORES: Scores = Object.freeze({ recency: null, frequency: null, monetary: null, engagement: 1 });

/** a cached profile: its scores and reasons are the last assessment's, made only when someone reads them */
export class CachedProfile implements Profile {
  channel!: string;
  viewerId!: string;
  purchases!: ViewerState['purchases'];
  watchMs!: number;
  comments!: number;
  likes!: number;
  productViews!: number;
  addToCarts!: number;
  engWeighted!: number;
  firstSeenAt!: number;
  lastSeenAt!: number;
  checkouts!: number[];
  offers!: ViewerState['offers'];
  tier!: Tier;
  lifecycle!: Lifecycle;
  assessed!: Profile['assessed'];
  currency!: string;
  streams!: Set<string>;
  stored!: boolean;

  constructor(init: Omit<Profile, 'scores' | 'explain'>) {
    Object.assign(this, init);
  }

  get scores(): Scores {
    return this.assessed instanceof Assessment ? this.assessed.scores : NO_SCORES;
  }

  get explain(): Explain[] {
    return this.assessed.explain;
  }
}

/** a queued write of a viewer's tier: the reasons are made from the assessment when the commit reads them */
export class ReasonsWrite implements ReasonsJob {
  readonly kind = 'reasons' as const;
  webhooks?: WebhookEvent[];
  constructor(
    readonly channel: string,
    readonly viewerId: string,
    public tier: Tier,
    public lifecycle: Lifecycle,
    public of: Profile['assessed'],
  ) {}

  get explain(): Explain[] {
    return this.of.explain;
  }
}
