/**
 * Versioned schema migrations. `PRAGMA user_version` records the last one applied; each runs
 * once, in its own transaction. Append new migrations; never edit a released one.
 */
export const MIGRATIONS: string[] = [
  /* 1: the whole loop */ `
  CREATE TABLE channels (
    id            TEXT PRIMARY KEY,
    token_secret  TEXT NOT NULL,
    created_at    INTEGER NOT NULL
  );
  CREATE TABLE streams (
    id               TEXT PRIMARY KEY,
    channel          TEXT NOT NULL REFERENCES channels(id),
    title            TEXT NOT NULL,
    allowed_origins  TEXT NOT NULL DEFAULT '[]',
    host_key_hash    TEXT NOT NULL UNIQUE,
    ingest_key_hash  TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL
  );
  CREATE TABLE viewers (
    channel          TEXT NOT NULL,
    id               TEXT NOT NULL,
    verified         INTEGER NOT NULL DEFAULT 0,
    tier             TEXT NOT NULL DEFAULT 'potential',
    reasons          TEXT NOT NULL DEFAULT '[]',
    watch_ms         INTEGER NOT NULL DEFAULT 0,
    comments         INTEGER NOT NULL DEFAULT 0,
    likes            INTEGER NOT NULL DEFAULT 0,
    product_views    INTEGER NOT NULL DEFAULT 0,
    add_to_carts     INTEGER NOT NULL DEFAULT 0,
    first_seen_at    INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    PRIMARY KEY (channel, id)
  ) WITHOUT ROWID;
  CREATE INDEX viewers_tier ON viewers(channel, tier);
  CREATE TABLE viewer_streams (
    stream_id        TEXT NOT NULL,
    viewer_id        TEXT NOT NULL,
    watch_ms         INTEGER NOT NULL DEFAULT 0,
    comments         INTEGER NOT NULL DEFAULT 0,
    likes            INTEGER NOT NULL DEFAULT 0,
    product_views    INTEGER NOT NULL DEFAULT 0,
    add_to_carts     INTEGER NOT NULL DEFAULT 0,
    checkouts        INTEGER NOT NULL DEFAULT 0,
    browser_purchases INTEGER NOT NULL DEFAULT 0,
    first_seen_at    INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    PRIMARY KEY (stream_id, viewer_id)
  ) WITHOUT ROWID;
  CREATE TABLE events (
    stream_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    viewer_id    TEXT NOT NULL,
    type         TEXT NOT NULL,
    client_ts    INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    credit_ms    INTEGER,
    data         TEXT,
    PRIMARY KEY (stream_id, id)
  );
  CREATE INDEX events_viewer ON events(stream_id, viewer_id);
  CREATE INDEX events_received ON events(received_at);
  CREATE TABLE purchases (
    channel      TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    stream_id    TEXT NOT NULL,
    viewer_id    TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    refunded     INTEGER NOT NULL DEFAULT 0,
    currency     TEXT NOT NULL,
    items        TEXT,
    coupon_code  TEXT,
    at           INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (channel, order_id)
  ) WITHOUT ROWID;
  CREATE INDEX purchases_viewer ON purchases(channel, viewer_id);
  CREATE INDEX purchases_stream ON purchases(stream_id);
  CREATE TABLE offers (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    stream_id       TEXT NOT NULL,
    viewer_id       TEXT NOT NULL,
    campaign        TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT,
    discount_kind   TEXT NOT NULL,
    discount_value  INTEGER NOT NULL,
    min_spend       INTEGER,
    currency        TEXT NOT NULL DEFAULT 'CNY',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    seen_at         INTEGER,
    clicked_at      INTEGER,
    redeemed_at     INTEGER,
    redeemed_order  TEXT
  );
  CREATE INDEX offers_viewer ON offers(channel, viewer_id, delivered_at);
  CREATE UNIQUE INDEX offers_once ON offers(stream_id, viewer_id, campaign);
  `,
  /* issue 5 (helper S): identify() links an anonymous viewer to a verified one, once per anonymous id */ `
  CREATE TABLE viewer_aliases (
    channel     TEXT NOT NULL,
    anon_id     TEXT NOT NULL,
    viewer_id   TEXT NOT NULL,
    events      INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (channel, anon_id)
  ) WITHOUT ROWID;
  `,
  /* issue 6 (helper H): host polls, and an index to count a poll's answers without scanning the stream's events */ `
  CREATE TABLE polls (
    id          TEXT PRIMARY KEY,
    stream_id   TEXT NOT NULL,
    question    TEXT NOT NULL,
    scale       INTEGER NOT NULL,
    opened_at   INTEGER NOT NULL,
    closes_at   INTEGER NOT NULL
  );
  CREATE INDEX polls_stream ON polls(stream_id, opened_at);
  CREATE INDEX events_type ON events(stream_id, type);
  `,
  /* issue 4 (helper O): campaigns, holdout assignments, what each offer commits against a budget */ `
  CREATE TABLE campaigns (
    stream_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    channel          TEXT NOT NULL,
    doc              TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'active',
    adhoc            INTEGER NOT NULL DEFAULT 0,
    max_issued       INTEGER,
    budget           INTEGER,
    issued           INTEGER NOT NULL DEFAULT 0,
    committed        INTEGER NOT NULL DEFAULT 0,
    skipped_capped   INTEGER NOT NULL DEFAULT 0,
    skipped_budget   INTEGER NOT NULL DEFAULT 0,
    skipped_quota    INTEGER NOT NULL DEFAULT 0,
    skipped_already  INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (stream_id, id)
  ) WITHOUT ROWID;
  CREATE TABLE campaign_assignments (
    stream_id    TEXT NOT NULL,
    campaign_id  TEXT NOT NULL,
    viewer_id    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    arm          TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (stream_id, campaign_id, viewer_id)
  ) WITHOUT ROWID;
  ALTER TABLE offers ADD COLUMN value INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE offers ADD COLUMN max_discount INTEGER;
  ALTER TABLE offers ADD COLUMN skus TEXT;
  DROP INDEX offers_once;
  CREATE INDEX offers_campaign ON offers(stream_id, campaign, viewer_id);
  CREATE INDEX offers_stream_viewer ON offers(stream_id, viewer_id, created_at);
  CREATE INDEX purchases_code ON purchases(channel, coupon_code);
  `,
  /* issue 8 (helper R): keys replaced by a rotation, valid until expires_at (the grace period), as SHA-256 digests */ `
  CREATE TABLE retired_keys (
    key_hash    TEXT PRIMARY KEY,
    stream_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX retired_keys_stream ON retired_keys(stream_id, kind);
  `,
  /* issue 3 (helper T): tiering: per-channel tier rules; per-viewer lifecycle, value and weighted engagement (for lists) */ `
  CREATE TABLE channel_rules (
    channel     TEXT PRIMARY KEY,
    doc         TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
  ) WITHOUT ROWID;
  ALTER TABLE viewers ADD COLUMN lifecycle TEXT NOT NULL DEFAULT 'new';
  ALTER TABLE viewers ADD COLUMN orders INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE viewers ADD COLUMN spend INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE viewers ADD COLUMN last_purchase_at INTEGER;
  ALTER TABLE viewers ADD COLUMN eng_weighted REAL NOT NULL DEFAULT 0;
  UPDATE viewers SET
    orders = (SELECT COUNT(*) FROM purchases p WHERE p.channel = viewers.channel AND p.viewer_id = viewers.id AND p.amount > p.refunded),
    spend = (SELECT COALESCE(SUM(p.amount - p.refunded), 0) FROM purchases p WHERE p.channel = viewers.channel AND p.viewer_id = viewers.id),
    last_purchase_at = (SELECT MAX(p.at) FROM purchases p WHERE p.channel = viewers.channel AND p.viewer_id = viewers.id AND p.amount > p.refunded);
  `,
  /* issues 3 and 7 (helper P): events(stream_id, type) cost every insert a fifth B-tree for one query (a poll's answers);
     a partial index holds only poll_answer rows, so other events skip it */ `
  DROP INDEX events_type;
  CREATE INDEX events_poll ON events(stream_id, json_extract(data, '$.pollId'), viewer_id) WHERE type = 'poll_answer';
  `,
  /* issues 4 and 6: campaign stats (uplift) from the purchases side: the channel's purchases by time,
     and the few redeemed offers of a campaign */ `
  CREATE INDEX purchases_at ON purchases(channel, at);
  CREATE INDEX offers_redeemed ON offers(stream_id, campaign) WHERE redeemed_order IS NOT NULL;
  `,
  /* issue 5: an alias (and an erasure) finds a viewer's holdout assignments without a scan */ `
  CREATE INDEX campaign_assignments_viewer ON campaign_assignments(channel, viewer_id);
  `,
  /* issue 4: the open carts a restart rebuilds, read from a partial index of add_to_cart events only
     (start-up reads a day of carts, not a day of all events) */ `
  CREATE INDEX events_cart ON events(received_at) WHERE type = 'add_to_cart';
  `,
  /* issues 7 and 8: retention finds old events by rowid (rows are appended in the order the server
     received them), so no insert pays for an index on received_at any more */ `
  DROP INDEX events_received;
  `,
  /* issues 3 and 5: a channel's streams without reading every stream of every channel (a profile load's
     checkout history, alias, export and erasure start from them) */ `
  CREATE INDEX streams_channel ON streams(channel, id);
  `,
  /* issue 7: one key instead of two. Events were deduplicated by (stream_id, id) and found per viewer
     by (stream_id, viewer_id): two B-trees with random insert points per event. A viewer's event ids
     are unique per stream, so (stream_id, viewer_id, id) is both the dedup key and the per-viewer
     lookup (one viewer can no longer make another's event id a "duplicate" either). The table is
     rebuilt in rowid order (retention reads rowids as arrival order). */ `
  CREATE TABLE events_new (
    stream_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    viewer_id    TEXT NOT NULL,
    type         TEXT NOT NULL,
    client_ts    INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    credit_ms    INTEGER,
    data         TEXT
  );
  INSERT INTO events_new (rowid, stream_id, id, viewer_id, type, client_ts, received_at, credit_ms, data)
    SELECT rowid, stream_id, id, viewer_id, type, client_ts, received_at, credit_ms, data FROM events ORDER BY rowid;
  DROP TABLE events;
  ALTER TABLE events_new RENAME TO events;
  CREATE UNIQUE INDEX events_key ON events(stream_id, viewer_id, id);
  CREATE INDEX events_poll ON events(stream_id, json_extract(data, '$.pollId'), viewer_id) WHERE type = 'poll_answer';
  CREATE INDEX events_cart ON events(received_at) WHERE type = 'add_to_cart';
  `,
  /* the CSV export reads a stream's viewers in order of arrival, a page at a time: each page is a
     range of this index instead of a sort of every viewer of the stream (a row is inserted once per
     viewer and stream; the counters ingest updates are not in it) */ `
  CREATE INDEX viewer_streams_first ON viewer_streams(stream_id, first_seen_at, viewer_id);
  `,
  /* a channel's token secret can be rotated: the replaced secret keeps verifying viewer tokens
     until previous_valid_until (ms), so tokens already handed out survive a grace period */ `
  ALTER TABLE channels ADD COLUMN previous_token_secret TEXT;
  ALTER TABLE channels ADD COLUMN previous_valid_until BIGINT;
  `,
  /* due work beside its cause (jobs/due.ts): open carts, crossed watch milestones and purchases
     whose offers are due, claimed with a lease by any process (so a trigger that waits survives
     the process that saw its cause); job_effects records each campaign a job instance fired, in
     the transaction that issued it. The carts' index of add_to_cart events goes: nothing rebuilds
     carts from the events any more. */ `
  CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    channel       TEXT NOT NULL,
    stream_id     TEXT NOT NULL,
    viewer_id     TEXT NOT NULL,
    payload       TEXT NOT NULL DEFAULT '{}',
    run_at        INTEGER NOT NULL,
    armed_at      INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX jobs_due ON jobs(run_at);
  CREATE INDEX jobs_viewer ON jobs(channel, viewer_id);
  CREATE TABLE job_effects (
    key          TEXT NOT NULL,
    campaign_id  TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (key, campaign_id)
  );
  CREATE INDEX job_effects_at ON job_effects(at);
  DROP INDEX events_cart;
  `,
  /* the host's live history survives a restart: the audience trend at its finest resolution (a
     point per bucket, revised in place) and the newest activity lines (pruned to a few per stream;
     deleted with their viewer on erasure) */ `
  CREATE TABLE host_trend (
    stream_id  TEXT NOT NULL,
    t          INTEGER NOT NULL,
    point      TEXT NOT NULL,
    PRIMARY KEY (stream_id, t)
  );
  CREATE TABLE host_activity (
    stream_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    at         INTEGER NOT NULL,
    viewer_id  TEXT NOT NULL,
    item       TEXT NOT NULL,
    PRIMARY KEY (stream_id, key)
  );
  CREATE INDEX host_activity_at ON host_activity(stream_id, at, key);
  `,
  /* webhooks (issue 17): the merchant's endpoints, and the outbox of deliveries written in the
     transaction of each change (one row per endpoint and event, unique by event id); streams end
     (by the host, or idle: active_at is when a process last had viewers in it) */ `
  ALTER TABLE streams ADD COLUMN ended_at INTEGER;
  ALTER TABLE streams ADD COLUMN active_at INTEGER;
  CREATE TABLE webhooks (
    id               TEXT PRIMARY KEY,
    channel          TEXT NOT NULL,
    url              TEXT NOT NULL,
    events           TEXT NOT NULL,
    description      TEXT,
    secret           TEXT NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    disabled_reason  TEXT,
    failing_since    INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
  );
  CREATE INDEX webhooks_channel ON webhooks(channel);
  CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    webhook_id       TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    type             TEXT NOT NULL,
    viewer_id        TEXT,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_at          INTEGER,
    first_tried_at   INTEGER,
    last_attempt_at  INTEGER,
    last_code        INTEGER,
    last_error       TEXT,
    duration_ms      INTEGER,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (webhook_id, event_id)
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_at);
  CREATE INDEX webhook_deliveries_list ON webhook_deliveries(webhook_id, created_at);
  CREATE INDEX webhook_deliveries_viewer ON webhook_deliveries(viewer_id) WHERE viewer_id IS NOT NULL;
  CREATE INDEX viewers_lifecycle ON viewers(channel, lifecycle, last_seen_at);
  `,
  /* issue 16: a channel has one currency (a stream's creation or the first verified purchase sets it) */ `
  ALTER TABLE channels ADD COLUMN currency TEXT;
  `,
  /* issue 15: each channel's fitted predictive model (server/predict/channel-model.ts), and the lease
     of the process fitting it (one fit per channel at a time, whichever process takes it) */ `
  CREATE TABLE channel_models (
    channel        TEXT PRIMARY KEY,
    status         TEXT,
    fitted_at      INTEGER,
    buyers         INTEGER NOT NULL DEFAULT 0,
    body           TEXT,
    fitting_until  INTEGER
  );
  `,
  /* issue 15: each buyer's prediction as of the channel's last fit, beside the viewer (lists sorted by it, the CSV) */ `
  ALTER TABLE viewers ADD COLUMN p_alive REAL;
  ALTER TABLE viewers ADD COLUMN clv_365d INTEGER;
  `,
  /* an offer keeps its campaign's translations of its title and description (JSON, null: none),
     so the viewer's widget shows them in its language, re-sends after a reconnect included */ `
  ALTER TABLE offers ADD COLUMN i18n TEXT;
  `,
  /* the channel overview: a read-only key per channel (its SHA-256 digest; the one a rotation
     replaced stays valid until previous_key_valid_until); what a stream's end records: each viewer's
     tier then beside their tier at the end of their previous stream in the channel (stream_tiers,
     found per viewer by channel_viewer), and on the stream the counts of those and its peak, so the
     overview reads one row per ended stream; a channel's streams newest first by an index */ `
  ALTER TABLE channels ADD COLUMN key_hash TEXT;
  ALTER TABLE channels ADD COLUMN previous_key_hash TEXT;
  ALTER TABLE channels ADD COLUMN previous_key_valid_until INTEGER;
  CREATE UNIQUE INDEX channels_key ON channels(key_hash) WHERE key_hash IS NOT NULL;
  CREATE INDEX channels_previous_key ON channels(previous_key_hash) WHERE previous_key_hash IS NOT NULL;
  ALTER TABLE streams ADD COLUMN end_peak_connected INTEGER;
  ALTER TABLE streams ADD COLUMN end_high INTEGER;
  ALTER TABLE streams ADD COLUMN end_mid INTEGER;
  ALTER TABLE streams ADD COLUMN end_potential INTEGER;
  ALTER TABLE streams ADD COLUMN end_moved_up INTEGER;
  ALTER TABLE streams ADD COLUMN end_moved_down INTEGER;
  CREATE INDEX streams_created ON streams(channel, created_at, id);
  CREATE TABLE stream_tiers (
    stream_id      TEXT NOT NULL,
    viewer_id      TEXT NOT NULL,
    channel        TEXT NOT NULL,
    ended_at       INTEGER NOT NULL,
    tier           TEXT NOT NULL,
    previous_tier  TEXT,
    PRIMARY KEY (stream_id, viewer_id)
  ) WITHOUT ROWID;
  CREATE INDEX stream_tiers_viewer ON stream_tiers(channel, viewer_id, ended_at);
  `,
];
