/**
 * The channel page's own text, in English and Simplified Chinese. Words the host panel already
 * has (tiers, GMV, GPM, UV value, conversion, uplift) come from its table
 * (../livetier-host-panel/text.ts), so every page says the same thing the same way.
 */
import type { Lang } from '../locale.js';

const en = {
  heading: 'Channel overview',
  documentTitle: (channel: string) => `${channel} · LiveTier channel overview`,
  loading: 'Loading the channel…',
  keyLabel: 'Channel key (or the admin key)',
  open: 'Open the overview',
  wrong: 'Wrong key. Please check it and try again.',
  forbidden: 'This key cannot read this channel: it belongs to another channel, or to a stream. Please use this channel’s key.',
  notFound: 'There is no such channel.',
  failed: (message: string) => `Could not load the overview: ${message}`,
  /** the link to the page in the other language, written in that language */
  otherLang: '中文',
  otherLangTag: 'zh-CN' as Lang,
  actions: 'Page actions',
  kicker: 'LiveTier · Channel overview',
  currency: (code: string) => `Amounts in ${code}`,
  streamsShown: (n: number) => (n === 1 ? 'The newest stream.' : `The newest ${n} streams, newest first.`),
  noStreams: 'This channel has no stream yet.',
  sections: { tiers: 'Viewers by tier', streams: 'Streams compared', charts: 'Stream by stream', tierTable: 'Tiers stream by stream' },
  now: 'The channel’s viewers now',
  latest: (title: string) => `Since the previous stream (for the viewers of “${title}”)`,
  movedUp: 'Moved up',
  movedDown: 'Moved down',
  cols: {
    stream: 'Stream', started: 'Started', length: 'Length', audience: 'Viewers', peak: 'Peak', orders: 'Orders',
    returning: 'Returning', offers: 'Offers issued / redeemed', asOf: 'Counted',
  },
  live: 'live',
  noHoldout: 'no campaign held viewers back',
  asOf: { end: 'at its end', now: 'now (live)', none: 'not recorded' },
  length: (ms: number) => {
    if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
    const min = Math.round(ms / 60_000);
    return min >= 60 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${min} min`;
  },
  notRecorded: 'not recorded',
  charts: {
    gmvAudience: 'GMV and viewers per stream',
    gmvAudienceDesc: (n: number) => `Bars for ${n} streams, oldest on the left: GMV (dark blue) and unique viewers (grey), each scaled to its own highest value.`,
    highValue: 'High-value viewers per stream',
    highValueDesc: (n: number) => `Bars for ${n} streams, oldest on the left: the stream’s viewers in the high tier, with how many moved up (▲) and down (▼) since their previous stream.`,
    gmv: 'GMV',
    audience: 'Viewers',
    high: 'High value',
    tableNote: 'The tables above hold every number of these charts.',
  },
  notes: {
    tiers:
      'Each stream counts its viewers by their tier when it ended (a live stream: now). Moved up or down: compared with their tier at the end of the previous stream they watched in this channel; viewers new to the channel count in neither.',
    uplift:
      'Uplift: the conversion of the viewers who got a campaign’s offer minus that of the viewers held back, in percentage points, with its 95% confidence interval; a stream’s campaigns with a holdout are pooled, each weighed by its size.',
  },
};

export type ChannelText = typeof en;

const zh: ChannelText = {
  heading: '频道总览',
  documentTitle: (channel) => `${channel} · LiveTier 频道总览`,
  loading: '正在加载频道数据…',
  keyLabel: '频道密钥（或管理员密钥）',
  open: '打开总览',
  wrong: '密钥错误，请检查后重试。',
  forbidden: '该密钥无权查看本频道：它属于另一个频道或某场直播。请使用本频道的密钥。',
  notFound: '找不到该频道。',
  failed: (message) => `总览加载失败：${message}`,
  otherLang: 'English',
  otherLangTag: 'en',
  actions: '页面操作',
  kicker: 'LiveTier · 频道总览',
  currency: (code) => `金额单位：${code}`,
  streamsShown: (n) => (n === 1 ? '最近 1 场直播。' : `最近 ${n} 场直播，最新的在前。`),
  noStreams: '该频道还没有直播。',
  sections: { tiers: '观众分层', streams: '直播对比', charts: '逐场趋势', tierTable: '逐场分层' },
  now: '频道当前观众',
  latest: (title) => `与上一场相比（“${title}”的观众）`,
  movedUp: '升级',
  movedDown: '降级',
  cols: {
    stream: '直播', started: '开始时间', length: '时长', audience: '观众', peak: '最高在线', orders: '订单',
    returning: '老观众占比', offers: '优惠券 发放 / 核销', asOf: '统计时点',
  },
  live: '直播中',
  noHoldout: '无设对照组的活动',
  asOf: { end: '结束时', now: '当前（直播中）', none: '未记录' },
  length: (ms) => {
    if (ms < 60_000) return `${Math.round(ms / 1000)} 秒`;
    const min = Math.round(ms / 60_000);
    return min >= 60 ? `${Math.floor(min / 60)} 小时 ${min % 60} 分钟` : `${min} 分钟`;
  },
  notRecorded: '未记录',
  charts: {
    gmvAudience: '每场 GMV 与观众数',
    gmvAudienceDesc: (n) => `${n} 场直播的柱状图，最早的在左：GMV（深蓝）与去重观众数（灰色），各自按最大值缩放。`,
    highValue: '每场高价值观众',
    highValueDesc: (n) => `${n} 场直播的柱状图，最早的在左：本场高价值分层的观众数，以及与上一场相比升级（▲）和降级（▼）的人数。`,
    gmv: 'GMV',
    audience: '观众',
    high: '高价值',
    tableNote: '图中的每个数字都在上方表格中。',
  },
  notes: {
    tiers: '每场直播按观众在直播结束时的分层计数（直播中的场次按当前分层）。升级或降级：与观众在本频道上一场观看的直播结束时的分层相比；首次来到本频道的观众不计入。',
    uplift: '提升：收到优惠的观众转化率减去对照组观众的转化率（百分点），并给出 95% 置信区间；同一场直播中设有对照组的活动按规模加权合并。',
  },
};

export const CHANNEL_TEXT: Record<Lang, ChannelText> = { en, 'zh-CN': zh };
