/**
 * Reasons as data. Every reason the server gives for a tier or a lifecycle is a code and its
 * parameters (`{ code: 'tier.high', params: { orders: 3, spend: 231403, … } }`); the words are
 * made from them here, in English or Simplified Chinese, wherever they are read: the REST API
 * (`?lang=`), the host panel (in its own `lang`), webhooks and exports (English beside the codes).
 *
 * Pure and browser-safe (Intl only): the host panel renders with this same catalogue. The English
 * text is exactly what the tier model has always written, so `reasons: string[]` stays the same.
 */
import type { ScoreRule } from './rules.js';

export type ReasonLang = 'en' | 'zh-CN';
export const REASON_LANGS: readonly ReasonLang[] = ['en', 'zh-CN'];

/** the rule a `needs` suffix names: "(high needs R≥4 and F+M≥8)" */
export type Needs = {
  tier: 'high' | 'mid';
  rule: ScoreRule;
};

/** What each code takes. `rank` (the top-N % of the channel's spenders) may follow any tier reason. */
export interface ReasonParams {
  'tier.high': { orders: number; spend: number; currency: string; windowDays: number; minOrders: number; minSpend: number; rank?: number };
  'tier.mid': { orders: number; spend: number; currency: string; windowDays: number; rank?: number };
  'tier.toHigh.orders': { more: number; windowDays: number };
  'tier.toHigh.spend': { spend: number; currency: string; windowDays: number };
  'tier.noPurchase': { windowDays: number; needs?: Needs; rank?: number };
  'rfm.scores': {
    recency: number; frequency: number; monetary: number; orders: number; spend: number; currency: string;
    lookbackDays: number; sinceDays: number; needs?: Needs; rank?: number;
  };
  'rfm.needs': Needs;
  'engagement.activity': { watchMinutes: number; comments: number; likes: number; productViews: number; addToCarts: number };
  'engagement.score': { score: number };
  'lifecycle.lapsed': { days: number; lapsedDays: number };
  'lifecycle.atRisk': { noVisitDays?: number; abandonedCheckouts?: number; ignoredOffers?: number; pAlive?: number; atRiskPAlive?: number };
  'lifecycle.new': { days: number };
  'lifecycle.active': { days: number };
  /** a segment of buyers in words (server/predict/segments.ts): shares 0–1, purchase days a month, spend ÷ the average */
  'segment.traits': { share: number; gmvShare: number; ordersPerMonth: number; spendRatio: number; recencyDays: number };
  /** a cross-sell offer's rule (server/predict/channel-model.ts): `confidence` of the orders holding `if` also hold `then` */
  'crossSell.rule': { if: string[]; then: string[]; confidence: number };
  /** a reason stored before reasons were codes: shown as it was written, in every language */
  text: { text: string };
}
export type ReasonCode = keyof ReasonParams;
export type Explain = { [C in ReasonCode]: { code: C; params: ReasonParams[C] } }[ReasonCode];

export const reason = <C extends ReasonCode>(code: C, params: ReasonParams[C]) => ({ code, params }) as Explain;

/** Intl.NumberFormat is costly to build: one per locale, currency and fraction style (null: unknown currency). */
const moneyFormats = new Map<string, Intl.NumberFormat | null>();
function moneyFormat(locale: ReasonLang, currency: string, cents: boolean): Intl.NumberFormat | null {
  const key = `${locale}|${currency}|${cents ? 1 : 0}`;
  let f = moneyFormats.get(key);
  if (f === undefined) {
    try {
      f = new Intl.NumberFormat(locale, {
        style: 'currency',
        currency,
        currencyDisplay: 'narrowSymbol',
        minimumFractionDigits: cents ? 2 : 0,
        maximumFractionDigits: 2,
      });
    } catch {
      f = null;
    }
    // the currency is client input: keep the cache bounded
    if (moneyFormats.size >= 256) moneyFormats.clear();
    moneyFormats.set(key, f);
  }
  return f;
}

/** Formats minor units as money, e.g. 179700 CNY → "¥1,797". Whole units when there are no cents. */
export function formatMoney(minor: number, currency = 'CNY', locale: ReasonLang = 'en'): string {
  const major = minor / 100;
  const f = moneyFormat(locale, currency, !Number.isInteger(major));
  return f ? f.format(major) : `${major.toFixed(2)} ${currency}`;
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface Words {
  tierName: Record<Needs['tier'], string>;
  rule(r: ScoreRule): string;
  needs(n: Needs): string;
  rank(pct: number): string;
  text: { [C in ReasonCode]: (p: ReasonParams[C]) => string };
}

const joinRule = (r: ScoreRule, engagement: string, and: string, any: string, top: (pct: number) => string = (pct) => `top ${pct}% by predicted value`) => {
  const parts: string[] = [];
  if (r.minRecency != null) parts.push(`R≥${r.minRecency}`);
  if (r.minFrequency != null) parts.push(`F≥${r.minFrequency}`);
  if (r.minMonetary != null) parts.push(`M≥${r.minMonetary}`);
  if (r.minFrequencyPlusMonetary != null) parts.push(`F+M≥${r.minFrequencyPlusMonetary}`);
  if (r.minEngagement != null) parts.push(`${engagement}≥${r.minEngagement}`);
  if (r.topPredictedPercent != null) parts.push(top(r.topPredictedPercent));
  return parts.length ? parts.join(and) : any;
};

const num = (v: number, locale: ReasonLang) => new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(v);
/** a ratio: one decimal from 1 up, two significant digits below (0.012×, not 0×) */
const ratio = (v: number, locale: ReasonLang) => new Intl.NumberFormat(locale, v < 1 ? { maximumSignificantDigits: 2 } : { maximumFractionDigits: 1 }).format(v);
const pct = (share: number, locale: ReasonLang) => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(share);

const agoEn = (days: number) => (days <= 0 ? 'today' : days === 1 ? 'yesterday' : `${days} days ago`);
const agoZh = (days: number) => (days <= 0 ? '今天' : days === 1 ? '昨天' : `${days} 天前`);

const en: Words = {
  tierName: { high: 'high', mid: 'mid' },
  rule: (r) => joinRule(r, 'engagement', ' and ', 'any purchase'),
  needs: (n) => `${n.tier} needs ${en.rule(n.rule)}`,
  rank: (pct) => ` — top ${pct}% of spenders`,
  text: {
    'tier.high': (p) =>
      `${plural(p.orders, 'verified order')}, ${formatMoney(p.spend, p.currency)} in ${p.windowDays} days` +
      ` (high needs ${p.minOrders}+ orders and ${formatMoney(p.minSpend, p.currency)}+)`,
    'tier.mid': (p) => `${plural(p.orders, 'verified order')}, ${formatMoney(p.spend, p.currency)} in ${p.windowDays} days`,
    'tier.toHigh.orders': (p) => `${p.more} more order(s) in ${p.windowDays} days to reach high`,
    'tier.toHigh.spend': (p) => `${formatMoney(p.spend, p.currency)} more spend in ${p.windowDays} days to reach high`,
    'tier.noPurchase': (p) => `no verified purchase in ${p.windowDays} days${p.needs ? ` (${en.needs(p.needs)})` : ''}`,
    'rfm.scores': (p) =>
      `R ${p.recency} · F ${p.frequency} · M ${p.monetary}: ${plural(p.orders, 'verified order')}, ` +
      `${formatMoney(p.spend, p.currency)} in ${p.lookbackDays} days, last ${p.sinceDays === 0 ? 'today' : `${plural(p.sinceDays, 'day')} ago`}` +
      (p.needs ? ` (${en.needs(p.needs)})` : ''),
    'rfm.needs': (p) => en.needs(p),
    'engagement.activity': (p) => {
      const parts: string[] = [];
      if (p.watchMinutes > 0) parts.push(`watched ${plural(p.watchMinutes, 'minute')}`);
      if (p.comments > 0) parts.push(plural(p.comments, 'comment'));
      if (p.likes > 0) parts.push(plural(p.likes, 'like'));
      if (p.productViews > 0) parts.push(plural(p.productViews, 'product view'));
      if (p.addToCarts > 0) parts.push(plural(p.addToCarts, 'add-to-cart'));
      return parts.join(', ');
    },
    'engagement.score': (p) =>
      p.score >= 4
        ? `engagement ${p.score}/5: watches and takes part but has not bought, worth a first-order offer`
        : `engagement ${p.score}/5${p.score === 1 ? ': a drive-by visit so far' : ''}`,
    'lifecycle.lapsed': (p) => `lapsed: last verified order ${agoEn(p.days)} (lapsed after ${p.lapsedDays} days)`,
    'lifecycle.atRisk': (p) => {
      const parts: string[] = [];
      if (p.noVisitDays != null) parts.push(`no visit for ${plural(p.noVisitDays, 'day')}`);
      if (p.abandonedCheckouts != null) parts.push(`${p.abandonedCheckouts} abandoned checkouts in a row`);
      if (p.ignoredOffers != null) parts.push(`last ${p.ignoredOffers} offers ignored`);
      if (p.pAlive != null) parts.push(`${pct(p.pAlive, 'en')} chance of buying again (at risk below ${pct(p.atRiskPAlive ?? 0.5, 'en')})`);
      return `at risk: ${parts.join(', ')}`;
    },
    'lifecycle.new': (p) => `new: first seen ${agoEn(p.days)}`,
    'lifecycle.active': (p) => `active: last seen ${agoEn(p.days)}`,
    'segment.traits': (p) =>
      `${pct(p.share, 'en')} of buyers, ${pct(p.gmvShare, 'en')} of GMV: ` +
      (p.ordersPerMonth >= 1 ? (p.ordersPerMonth === 1 ? 'buy once a month' : `buy ${num(p.ordersPerMonth, 'en')} times a month`) : `buy about every ${plural(Math.max(1, Math.round(1 / Math.max(p.ordersPerMonth, 1 / 12))), 'month')}`) +
      `, spend ${ratio(p.spendRatio, 'en')}× the average, last bought ${agoEn(p.recencyDays)}`,
    'crossSell.rule': (p) => `${pct(p.confidence, 'en')} of buyers of ${p.if.join(' + ')} also buy ${p.then.join(' + ')}`,
    text: (p) => p.text,
  },
};

const zhMoney = (minor: number, currency: string) => formatMoney(minor, currency, 'zh-CN');

const zh: Words = {
  tierName: { high: '高价值', mid: '中价值' },
  rule: (r) => joinRule(r, '互动', ' 且 ', '任意一笔购买', (pct) => `预测价值前 ${pct}%`),
  needs: (n) => `${zh.tierName[n.tier]}需 ${zh.rule(n.rule)}`,
  rank: (pct) => ` — 消费额前 ${pct}%`,
  text: {
    'tier.high': (p) =>
      `${p.windowDays} 天内 ${p.orders} 笔已核实订单，消费 ${zhMoney(p.spend, p.currency)}` +
      `（高价值需 ${p.minOrders} 笔以上且 ${zhMoney(p.minSpend, p.currency)} 以上）`,
    'tier.mid': (p) => `${p.windowDays} 天内 ${p.orders} 笔已核实订单，消费 ${zhMoney(p.spend, p.currency)}`,
    'tier.toHigh.orders': (p) => `${p.windowDays} 天内再下 ${p.more} 单即可升为高价值`,
    'tier.toHigh.spend': (p) => `${p.windowDays} 天内再消费 ${zhMoney(p.spend, p.currency)} 即可升为高价值`,
    'tier.noPurchase': (p) => `${p.windowDays} 天内没有已核实的购买${p.needs ? `（${zh.needs(p.needs)}）` : ''}`,
    'rfm.scores': (p) =>
      `R ${p.recency} · F ${p.frequency} · M ${p.monetary}：${p.lookbackDays} 天内 ${p.orders} 笔已核实订单，` +
      `消费 ${zhMoney(p.spend, p.currency)}，最近一笔：${agoZh(p.sinceDays)}` +
      (p.needs ? `（${zh.needs(p.needs)}）` : ''),
    'rfm.needs': (p) => zh.needs(p),
    'engagement.activity': (p) => {
      const parts: string[] = [];
      if (p.watchMinutes > 0) parts.push(`观看 ${p.watchMinutes} 分钟`);
      if (p.comments > 0) parts.push(`评论 ${p.comments} 条`);
      if (p.likes > 0) parts.push(`点赞 ${p.likes} 次`);
      if (p.productViews > 0) parts.push(`浏览商品 ${p.productViews} 次`);
      if (p.addToCarts > 0) parts.push(`加购 ${p.addToCarts} 次`);
      return parts.join('，');
    },
    'engagement.score': (p) =>
      p.score >= 4
        ? `互动 ${p.score}/5：常看常参与但还没买过，适合首单优惠`
        : `互动 ${p.score}/5${p.score === 1 ? '：目前只是路过' : ''}`,
    'lifecycle.lapsed': (p) => `已流失：${agoZh(p.days)}下了最后一笔已核实订单（超过 ${p.lapsedDays} 天未购买即为流失）`,
    'lifecycle.atRisk': (p) => {
      const parts: string[] = [];
      if (p.noVisitDays != null) parts.push(`${p.noVisitDays} 天未来访`);
      if (p.abandonedCheckouts != null) parts.push(`连续 ${p.abandonedCheckouts} 次放弃结账`);
      if (p.ignoredOffers != null) parts.push(`最近 ${p.ignoredOffers} 张优惠券都未理会`);
      if (p.pAlive != null) parts.push(`再次购买的可能性为 ${pct(p.pAlive, 'zh-CN')}（低于 ${pct(p.atRiskPAlive ?? 0.5, 'zh-CN')} 即有风险）`);
      return `有流失风险：${parts.join('，')}`;
    },
    'lifecycle.new': (p) => `新观众：${agoZh(p.days)}首次出现`,
    'lifecycle.active': (p) => `活跃：${agoZh(p.days)}来过`,
    'segment.traits': (p) =>
      `占买家 ${pct(p.share, 'zh-CN')}，贡献 GMV 的 ${pct(p.gmvShare, 'zh-CN')}：` +
      (p.ordersPerMonth >= 1 ? `每月购买 ${num(p.ordersPerMonth, 'zh-CN')} 次` : `大约每 ${Math.max(1, Math.round(1 / Math.max(p.ordersPerMonth, 1 / 12)))} 个月购买一次`) +
      `，消费是平均的 ${ratio(p.spendRatio, 'zh-CN')} 倍，最近一次购买在${agoZh(p.recencyDays)}`,
    'crossSell.rule': (p) => `购买 ${p.if.join(' + ')} 的买家中有 ${pct(p.confidence, 'zh-CN')} 也买了 ${p.then.join(' + ')}`,
    text: (p) => p.text,
  },
};

/** every code's words, by language (the catalogue test checks each code has both) */
export const CATALOGUE: Record<ReasonLang, Words> = { en, 'zh-CN': zh };

/** One reason in words. An unknown code (a newer server's) shows as its code, never as an error. */
export function explainText(e: Explain, lang: ReasonLang = 'en'): string {
  const words = CATALOGUE[lang] ?? en;
  const make = words.text[e.code] as ((p: unknown) => string) | undefined;
  if (!make) return e.code;
  const p = (e.params ?? {}) as { rank?: number };
  const text = make(p);
  return typeof p.rank === 'number' ? text + words.rank(p.rank) : text;
}

export const explainAll = (list: readonly Explain[], lang: ReasonLang = 'en'): string[] => list.map((e) => explainText(e, lang));

/** A stored list: codes, or (written before reasons were codes) plain strings. */
export function toExplain(stored: unknown): Explain[] {
  if (!Array.isArray(stored)) return [];
  return stored.map((x) => (typeof x === 'string' ? reason('text', { text: x }) : (x as Explain)));
}

/** the same reasons, parameters and all (a cheap check before a write) */
export function sameExplain(a: readonly Explain[], b: readonly Explain[]): boolean {
  return a.length === b.length && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The language asked for: `?lang=` wins (a bad one is the caller's mistake: null), else the first
 * of `Accept-Language` this catalogue has (by q), else English.
 */
export function pickLang(query: string | undefined, acceptLanguage: string | undefined): ReasonLang | null {
  if (query !== undefined) return matchLang(query);
  if (!acceptLanguage) return 'en';
  const ranked = acceptLanguage
    .split(',')
    .map((part, i) => {
      const [tag, ...ps] = part.trim().split(';');
      const q = ps.map((x) => x.trim()).find((x) => x.startsWith('q='));
      return { tag: tag!.trim(), q: q ? Number(q.slice(2)) : 1, i };
    })
    .filter((x) => x.tag && Number.isFinite(x.q) && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    const m = matchLang(tag);
    if (m) return m;
  }
  return 'en';
}

function matchLang(tag: string): ReasonLang | null {
  const t = tag.toLowerCase();
  if (t === 'en' || t.startsWith('en-')) return 'en';
  // Simplified Chinese: zh, zh-CN, zh-SG, zh-Hans(-…); Traditional tags fall back to it too, as the closest text there is
  if (t === 'zh' || t.startsWith('zh-')) return 'zh-CN';
  return null;
}
