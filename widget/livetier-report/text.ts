/**
 * The report page's own text, in English and Simplified Chinese. Words the host panel already has
 * (tiers, lifecycle stages, the KPIs, funnel steps, campaign and push columns, uplift) come from
 * its table (../livetier-host-panel/text.ts), so both pages say the same thing the same way.
 */
import type { Lang } from '../locale.js';

const en = {
  heading: 'Stream report',
  documentTitle: (title: string) => `${title} · LiveTier stream report`,
  loading: 'Loading the report…',
  keyLabel: 'Host key for this stream',
  open: 'Open the report',
  wrong: 'Wrong host key for this stream. Please check it and try again.',
  forbidden: 'This key belongs to another stream. Please use this stream\u2019s host key.',
  notFound: 'There is no such stream.',
  failed: (message: string) => `Could not load the report: ${message}`,
  print: 'Print / Save as PDF',
  dashboard: 'Live dashboard',
  /** the link to the page in the other language, written in that language */
  otherLang: '中文',
  otherLangTag: 'zh-CN' as Lang,
  actions: 'Report actions',
  meta: {
    stream: 'Stream', channel: 'Channel', started: 'Started', ended: 'Ended', length: 'Length', currency: 'Currency', generated: 'Generated',
  },
  stillLive: 'still live',
  length: (ms: number) => {
    if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
    const min = Math.round(ms / 60_000);
    return min >= 60 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${min} min`;
  },
  soFar: (length: string) => `${length} so far`,
  sections: {
    summary: 'Summary', kpis: 'The numbers hosts read', tiers: 'Tiers and lifecycle', campaigns: 'Campaigns',
    buyers: 'Top buyers', polls: 'Polls', segments: 'Segments', predicted: 'Predicted value',
  },
  summary: { audience: 'Viewers (unique)', peak: 'Peak watching', buyers: 'Buyers' },
  tierCols: { tier: 'Tier', viewers: 'Viewers', buyers: 'Buyers', conversion: 'Conversion', now: 'Watching now' },
  tiersNote: 'Each viewer counts in their tier as it is now.',
  lifecycleCaption: 'Watching now, by lifecycle',
  lifecycleCols: { stage: 'Lifecycle', viewers: 'Viewers' },
  funnelCols: { step: 'Step' },
  /** under the funnel: what its percentages are, and the overall conversion */
  funnelNote: (overall: string) => `Percentages are shares of the previous step. Overall, ${overall} of the viewers bought.`,
  upliftNote:
    'Uplift: the redemption rate of the viewers who got the offer minus that of the viewers held back, in percentage points, with its 95% confidence interval.',
  pushesShown: (n: number) => `The newest ${n} pushes.`,
  buyerCols: { rank: 'Rank', viewer: 'Viewer', orders: 'Orders', spend: 'Spend', predicted: 'Predicted value, next 12 months' },
  noBuyers: 'No verified purchase in this stream.',
  pollCols: { question: 'Question', opened: 'Opened', answers: 'Answers', average: 'Average (of 5)', ratings: 'Ratings 1–5' },
  noPolls: 'No polls in this stream.',
  segmentCols: { segment: 'Segment', buyers: 'Buyers', share: 'Share of buyers', gmvShare: 'Share of GMV', traits: 'Traits' },
  segmentName: (n: number) => `Segment ${n}`,
  segmentsNote: (buyers: number) => `K-means over recency, frequency, spend and engagement of the channel’s ${buyers} buyers of the last 12 months, found with its model.`,
  predictedCols: { tier: 'Tier', pAlive: 'Chance of buying again', expectedOrders90d: 'Orders, next 90 days', clv365d: 'Value, next 12 months' },
  predictedNote: 'The stream’s viewers with the highest predicted value, from the channel’s model (BG/NBD and Gamma-Gamma on its verified purchases).',
};

export type ReportText = typeof en;

const zh: ReportText = {
  heading: '直播复盘报告',
  documentTitle: (title) => `${title} · LiveTier 直播复盘报告`,
  loading: '正在加载报告…',
  keyLabel: '本场直播的主播密钥',
  open: '打开报告',
  wrong: '主播密钥错误，请检查后重试。',
  forbidden: '该密钥属于另一场直播，请使用本场直播的主播密钥。',
  notFound: '找不到该直播。',
  failed: (message) => `报告加载失败：${message}`,
  print: '打印 / 保存为 PDF',
  dashboard: '实时看板',
  otherLang: 'English',
  otherLangTag: 'en',
  actions: '报告操作',
  meta: { stream: '直播', channel: '频道', started: '开始时间', ended: '结束时间', length: '直播时长', currency: '币种', generated: '生成时间' },
  stillLive: '仍在直播',
  length: (ms) => {
    if (ms < 60_000) return `${Math.round(ms / 1000)} 秒`;
    const min = Math.round(ms / 60_000);
    return min >= 60 ? `${Math.floor(min / 60)} 小时 ${min % 60} 分钟` : `${min} 分钟`;
  },
  soFar: (length) => `截至目前 ${length}`,
  sections: {
    summary: '概览', kpis: '核心指标', tiers: '分层与生命周期', campaigns: '优惠活动',
    buyers: '消费排行', polls: '投票', segments: '人群细分', predicted: '预测价值',
  },
  summary: { audience: '累计观众（去重）', peak: '最高在线', buyers: '购买人数' },
  tierCols: { tier: '分层', viewers: '观众', buyers: '购买人数', conversion: '成交转化率', now: '当前在线' },
  tiersNote: '每位观众按其当前分层计入。',
  lifecycleCaption: '当前在线观众（按生命周期）',
  lifecycleCols: { stage: '生命周期', viewers: '观众' },
  funnelCols: { step: '步骤' },
  funnelNote: (overall) => `百分比为占上一步的比例。整体上 ${overall} 的观众完成购买。`,
  upliftNote: '提升：收到优惠的观众核销率减去对照组观众的核销率（百分点），并给出 95% 置信区间。',
  pushesShown: (n) => `最近 ${n} 次推送。`,
  buyerCols: { rank: '排名', viewer: '观众', orders: '订单', spend: '消费', predicted: '未来 12 个月预测价值' },
  noBuyers: '本场直播暂无已验证购买。',
  pollCols: { question: '问题', opened: '发起时间', answers: '作答人数', average: '平均分（满分 5）', ratings: '1–5 分分布' },
  noPolls: '本场直播没有投票。',
  segmentCols: { segment: '人群', buyers: '买家', share: '占买家', gmvShare: '占成交额', traits: '特征' },
  segmentName: (n) => `人群 ${n}`,
  segmentsNote: (buyers) => `基于频道近 12 个月 ${buyers} 位买家的最近购买、频次、消费与互动，由频道模型以 K-means 细分。`,
  predictedCols: { tier: '分层', pAlive: '再次购买的可能性', expectedOrders90d: '未来 90 天订单数', clv365d: '未来 12 个月价值' },
  predictedNote: '本场直播中预测价值最高的观众，来自频道模型（基于已核实购买的 BG/NBD 与 Gamma-Gamma）。',
};

export const REPORT_TEXT: Record<Lang, ReportText> = { en, 'zh-CN': zh };
