/**
 * What a host takes away from a stream (host key).
 *   GET /v1/streams/:id/viewers.csv  the stream's viewers with tier, lifecycle and stats, for spreadsheets
 *   GET /v1/streams/:id/kpis.csv     the numbers hosts read (GPM, UV value, rates…), one row per number, for spreadsheets
 *   GET /v1/streams/:id/report       the stream's summary report as JSON (during or after the broadcast)
 *   POST /v1/streams/:id/end         ends the stream (once) and sends `stream.ended` with the report to webhooks
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { documented, errorReply, StreamParams } from './schemas.js';
import { notFound, requireHost } from './guards.js';
import type { CsvViewerRow, StreamRow } from '../store/types.js';
import { streamKpis, streamLengthMs, type StreamKpis } from '../stats/kpis.js';

export const CSV_COLUMNS = [
  'id',
  'tier',
  'lifecycle',
  'verified',
  'purchases',
  'spend',
  'last_purchase_at',
  'watch_seconds',
  'comments',
  'likes',
  'product_views',
  'add_to_carts',
  'first_seen_at',
  'last_seen_at',
  'stream_watch_seconds',
  'stream_comments',
  'stream_product_views',
  'stream_add_to_carts',
  'stream_checkouts',
  'stream_purchases',
  'stream_spend',
  // issue 15: the predicted value as of the channel's last model fit (empty before one)
  'p_alive',
  'clv_365d',
] as const;

/**
 * One CSV cell (RFC 4180) that a spreadsheet will not run as a formula: text starting with
 * `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice), and any cell
 * with a comma, a quote or a line break is quoted. Numbers are written as they are.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let s = value;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * kpis.csv: one row per number, in this order, `metric,value,unit`. The metric is its field in the
 * report (`kpis`, then the stream's `orders`, `gmv`, `aov`); the unit says how to read the value:
 * `viewers`, `orders`, `seconds`, `share` (0 to 1, 4 decimals) or `minor_units` (of the channel's
 * currency). A separate file beside viewers.csv, whose columns stay as they are.
 */
export const KPI_CSV_ROWS = [
  ['viewers', 'viewers'],
  ['gpm', 'minor_units'],
  ['uvValue', 'minor_units'],
  ['avgWatchSeconds', 'seconds'],
  ['peakConnected', 'viewers'],
  ['commentRate', 'share'],
  ['productClickRate', 'share'],
  ['addToCartRate', 'share'],
  ['conversion', 'share'],
  ['newViewers', 'viewers'],
  ['returningViewers', 'viewers'],
  ['orders', 'orders'],
  ['gmv', 'minor_units'],
  ['aov', 'minor_units'],
] as const satisfies readonly (readonly [keyof StreamKpis | 'orders' | 'gmv' | 'aov', string])[];
export const KPI_CSV_COLUMNS = ['metric', 'value', 'unit'] as const;

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

function csvLine(r: CsvViewerRow): string {
  const cells = [
    r.id, r.tier, r.lifecycle, r.verified, r.purchases, r.spend, iso(r.lastPurchaseAt), Math.floor(r.watchMs / 1000),
    r.comments, r.likes, r.productViews, r.addToCarts, iso(r.firstSeenAt), iso(r.lastSeenAt),
    Math.floor(r.streamWatchMs / 1000), r.streamComments, r.streamProductViews, r.streamAddToCarts, r.streamCheckouts,
    r.streamPurchases, r.streamSpend, r.pAlive, r.clv365d,
  ];
  return cells.map(csvCell).join(',') + '\r\n';
}


const Funnel = Type.Object({
  viewers: Type.Integer(),
  productViews: Type.Integer(),
  addToCarts: Type.Integer(),
  checkouts: Type.Integer(),
  purchases: Type.Integer(),
  boughtWithoutCheckout: Type.Integer({ description: 'buyers with no tracked checkout (counted in checkouts all the same)' }),
});

const Kpis = Type.Object(
  {
    viewers: Type.Integer({ description: 'unique viewers of the stream' }),
    gpm: Type.Integer({ description: 'GMV per 1,000 viewers (minor units)' }),
    uvValue: Type.Integer({ description: 'GMV per viewer (minor units)' }),
    avgWatchSeconds: Type.Integer({ description: "watch time per viewer, each viewer's capped at the stream's length" }),
    peakConnected: Type.Integer(),
    commentRate: Type.Number({ description: 'viewers who commented ÷ viewers' }),
    productClickRate: Type.Number({ description: 'viewers with a product view ÷ viewers' }),
    addToCartRate: Type.Number({ description: 'viewers who added to cart ÷ viewers' }),
    conversion: Type.Number({ description: 'buyers ÷ viewers' }),
    newViewers: Type.Integer(),
    returningViewers: Type.Integer({ description: 'known to the channel before the stream began' }),
  },
  { description: 'The numbers live-commerce hosts read (docs/api.md#the-numbers-hosts-read)' },
);

const Minute = Type.Object(
  {
    t: Type.Integer({ description: "the minute's start, ms since epoch" }),
    watching: Type.Integer({ description: "viewers connected at the minute's end (the current minute: now)" }),
    orders: Type.Integer({ description: 'orders recorded during the minute' }),
    gmv: Type.Integer({ description: 'verified GMV recorded during the minute, net of its refunds (minor units; negative when refunds win)' }),
  },
  { description: 'One minute of the stream (docs/api.md#the-numbers-hosts-read)' },
);

const Report = Type.Object({
  streamId: Type.String(),
  title: Type.String(),
  channel: Type.String(),
  createdAt: Type.Integer(),
  endedAt: Type.Union([Type.Integer(), Type.Null()], { description: 'when the stream ended (null: live)' }),
  generatedAt: Type.Integer(),
  audience: Type.Integer(),
  connected: Type.Integer(),
  peakConnected: Type.Integer(),
  tiers: Type.Object({ high: Type.Integer(), mid: Type.Integer(), potential: Type.Integer() }),
  orders: Type.Integer(),
  gmv: Type.Integer(),
  aov: Type.Integer(),
  kpis: Kpis,
  minutes: Type.Array(Minute, { description: 'the stream minute by minute, oldest first (the last 24 hours): the series on the host\'s chart' }),
  funnel: Type.Object({
    ...Funnel.properties,
    byTier: Type.Object({ high: Funnel, mid: Funnel, potential: Funnel }),
    conversion: Type.Object({
      productViews: Type.Number(),
      addToCarts: Type.Number(),
      checkouts: Type.Number(),
      purchases: Type.Number(),
      overall: Type.Number(),
    }),
  }),
  offers: Type.Object({
    issued: Type.Integer(),
    delivered: Type.Integer(),
    redeemed: Type.Integer(),
    byCampaign: Type.Array(
      Type.Object({
        campaign: Type.String(),
        title: Type.String(),
        issued: Type.Integer(),
        delivered: Type.Integer(),
        seen: Type.Integer(),
        clicked: Type.Integer(),
        redeemed: Type.Integer(),
      }),
    ),
  }),
  topBuyers: Type.Array(Type.Object({ viewerId: Type.String(), orders: Type.Integer(), spend: Type.Integer() })),
  polls: Type.Array(
    Type.Object({
      id: Type.String(),
      question: Type.String(),
      openedAt: Type.Integer(),
      closesAt: Type.Integer(),
      counts: Type.Array(Type.Integer()),
      answers: Type.Integer(),
      average: Type.Union([Type.Number(), Type.Null()]),
    }),
  ),
});

/** share of the previous step, 0 when the previous step is empty (4 decimals) */
const rate = (n: number, of: number) => (of ? Math.round((n / of) * 10_000) / 10_000 : 0);

export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/streams/:id/viewers.csv',
    {
      preHandler: requireHost,
      schema: {
        tags: ['reports'],
        operationId: 'exportViewersCsv',
        summary: "The stream's viewers as CSV, for spreadsheets",
        description:
          'Streamed, one row per viewer of the stream, with a header row. Times are ISO 8601, money in minor units; text starting with `=`, `+`, `-`, `@`, a tab or CR gets a leading `\'` (no formulas).',
        params: StreamParams,
        // documentation of the CSV: the body is a stream, which Fastify never serializes
        response: {
          200: {
            description: 'The CSV (`Content-Disposition: attachment`)',
            content: {
              'text/csv': {
                schema: {
                  type: 'string',
                  examples: [`${CSV_COLUMNS.join(',')}\r\nuser-42,high,active,true,3,389700,2025-05-01T12:20:00.000Z,5400,12,40,9,3,2025-04-01T12:30:00.000Z,2025-05-01T12:30:00.000Z,1800,4,3,1,1,1,129900,0.87,498000\r\n`],
                },
              },
            },
          },
        },
      },
    },
    async (req, reply) => {
      const stream = req.keyStream!;
      const rows = app.store.csvRows(stream.channel, stream.id);
      async function* lines() {
        yield CSV_COLUMNS.join(',') + '\r\n';
        for await (const r of rows) yield csvLine(r);
      }
      reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="livetier-${stream.id}-viewers.csv"`)
        .header('cache-control', 'no-store');
      // a stream: rows go out a page at a time as the store reads them, never the whole list in memory
      return reply.send(Readable.from(lines()) as never);
    },
  );

  app.get(
    '/v1/streams/:id/kpis.csv',
    {
      preHandler: requireHost,
      schema: {
        tags: ['reports'],
        operationId: 'exportKpisCsv',
        summary: 'The numbers hosts read as CSV, for spreadsheets',
        description:
          'One row per number, `metric,value,unit`, with a header row: the report\'s `kpis` (GPM, UV value, average watch time, peak, comment, product-click and add-to-cart rates, conversion, new and returning viewers), then `orders`, `gmv` and `aov`. `unit` is `viewers`, `orders`, `seconds`, `share` (0 to 1, 4 decimals) or `minor_units`. The same numbers as `GET /v1/streams/{id}/report` at that moment.',
        params: StreamParams,
        response: {
          200: {
            description: 'The CSV (`Content-Disposition: attachment`)',
            content: {
              'text/csv': {
                schema: {
                  type: 'string',
                  examples: [`${KPI_CSV_COLUMNS.join(',')}\r\nviewers,4,viewers\r\ngpm,7500000,minor_units\r\nuvValue,7500,minor_units\r\navgWatchSeconds,8,seconds\r\n`],
                },
              },
            },
          },
          404: errorReply(404, 'not_found', 'unknown stream spring-sale'),
        },
      },
    },
    async (req, reply) => {
      const stream = req.keyStream!;
      const report = await buildReport(app, stream);
      if (!report) throw notFound(`unknown stream ${stream.id}`);
      const values: Record<string, number> = { ...report.kpis, orders: report.orders, gmv: report.gmv, aov: report.aov };
      const lines = [KPI_CSV_COLUMNS.join(','), ...KPI_CSV_ROWS.map(([metric, unit]) => [metric, values[metric], unit].map(csvCell).join(','))];
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="livetier-${stream.id}-kpis.csv"`)
        .header('cache-control', 'no-store')
        .send(lines.join('\r\n') + '\r\n');
    },
  );

  app.get(
    '/v1/streams/:id/report',
    {
      preHandler: requireHost,
      schema: {
        tags: ['reports'],
        operationId: 'streamReport',
        summary: "The stream's report: audience, the numbers hosts read, minute by minute, funnel, offers, top buyers, polls",
        description: 'During or after the broadcast. Conversion rates are shares of the previous step (4 decimals); `aov` is GMV per order.',
        params: StreamParams,
        response: { 200: documented(Report, 'The report'), 404: errorReply(404, 'not_found', 'unknown stream spring-sale') },
      },
    },
    async (req) => {
      const report = await buildReport(app, req.keyStream!);
      if (!report) throw notFound(`unknown stream ${req.keyStream!.id}`);
      return report;
    },
  );

  app.post(
    '/v1/streams/:id/end',
    {
      preHandler: requireHost,
      schema: {
        tags: ['reports'],
        operationId: 'endStream',
        summary: 'End the stream',
        description:
          "Marks the stream ended (once: a repeat answers with the first end's time and sends nothing) and writes `stream.ended`, with the stream's report, to the channel's webhooks. Late events and purchases still count. A stream nobody is connected to for `--stream-idle-end-minutes` (default 60) ends by itself. No body.",
        params: StreamParams,
        response: {
          200: documented(Type.Object({ streamId: Type.String(), endedAt: Type.Integer(), ended: Type.Boolean({ description: 'false: it had ended before' }) }), 'Ended', { streamId: 'spring-sale', endedAt: 1746109800000, ended: true }),
          404: errorReply(404, 'not_found', 'unknown stream spring-sale'),
        },
      },
    },
    async (req) => {
      const r = await app.ending.end(req.keyStream!, 'host');
      if (!r) throw notFound(`unknown stream ${req.keyStream!.id}`);
      return { streamId: req.keyStream!.id, endedAt: r.endedAt, ended: r.now };
    },
  );
};

/** The stream's report (GET /v1/streams/:id/report, and `stream.ended`'s payload); null: no such stream. */
export async function buildReport(app: FastifyInstance, stream: StreamRow) {
  const dashboard = app.realtime.hosts.dashboard;
  const summary = await app.engine.summary(stream.id);
  if (!summary) return null;
  await dashboard.ready(stream.id); // the stored history (trend, minutes), once per process
  const now = app.engine.now();
  const { total, byTier } = await app.store.funnel(stream.channel, stream.id);
  const row = (await app.store.getStream(stream.id)) ?? stream;
  const engagement = await app.store.streamEngagement(stream.channel, stream.id, row.createdAt, streamLengthMs(row, now));
  const peakConnected = Math.max(dashboard.peakConnected(stream.id), summary.connected);
  const polls = await Promise.all(
    (await app.store.polls(stream.id)).map(async (p) => {
      const counts = await app.store.pollCounts(stream.id, p.id, p.closesAt);
      const answers = counts.reduce((a, b) => a + b, 0);
      const average = answers ? Math.round((counts.reduce((a, n, i) => a + n * (i + 1), 0) / answers) * 100) / 100 : null;
      return { id: p.id, question: p.question, openedAt: p.openedAt, closesAt: p.closesAt, counts, answers, average };
    }),
  );
  return {
    streamId: stream.id,
    title: stream.title,
    channel: stream.channel,
    createdAt: stream.createdAt,
    endedAt: row.endedAt,
    generatedAt: now,
    audience: summary.audience,
    connected: summary.connected,
    peakConnected,
    tiers: summary.tiers,
    orders: summary.orders,
    gmv: summary.gmv,
    aov: summary.orders ? Math.round(summary.gmv / summary.orders) : 0,
    kpis: streamKpis(engagement, { gmv: summary.gmv, buyers: total.purchases }, peakConnected),
    minutes: dashboard.minutes(stream.id, { summary, now }),
    funnel: {
      ...total,
      byTier,
      conversion: {
        productViews: rate(total.productViews, total.viewers),
        addToCarts: rate(total.addToCarts, total.productViews),
        checkouts: rate(total.checkouts, total.addToCarts),
        purchases: rate(total.purchases, total.checkouts),
        overall: rate(total.purchases, total.viewers),
      },
    },
    offers: { ...summary.offers, byCampaign: await app.store.campaignCounts(stream.id) },
    topBuyers: await app.store.topBuyers(stream.id, 10),
    polls,
  };
}
