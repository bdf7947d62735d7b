/**
 * Numbers, shares and times for the report page, in the page's locale (pure, no DOM).
 */
import type { Lang } from '../locale.js';
import type { ReportText } from './text.js';

/** `1234` → `1,234` (en) */
export const formatCount = (n: number, lang: Lang) => new Intl.NumberFormat(lang).format(n);

/** a share with 4 decimals (`0.1234`) as a percentage with at most one decimal: `12.3%` */
export const formatShare = (x: number, lang: Lang) => new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(x);

/** `n` of `of` as a share, 0 when `of` is 0 (the server's rule for rates) */
export const shareOf = (n: number, of: number) => (of ? n / of : 0);

/** date and time, e.g. `May 1, 2025, 8:30 PM` / `2025年5月1日 20:30` */
export const formatDateTime = (ms: number, lang: Lang) => new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' }).format(ms);

/** time of day only, e.g. `8:30 PM` / `20:30` */
export const formatTime = (ms: number, lang: Lang) => new Intl.DateTimeFormat(lang, { timeStyle: 'short' }).format(ms);

/** the stream's length: until it ended, or until the report was made while it is live */
export function formatLength(r: { createdAt: number; endedAt: number | null; generatedAt: number }, t: ReportText): string {
  const ms = Math.max(0, (r.endedAt ?? r.generatedAt) - r.createdAt);
  return r.endedAt === null ? t.soFar(t.length(ms)) : t.length(ms);
}
