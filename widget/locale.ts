/**
 * Language and money for the elements. Built-in text exists in English and Simplified Chinese;
 * amounts travel in integer minor units and are shown in the offer's or channel's currency.
 */

export type Lang = 'en' | 'zh-CN';

/** The element's `lang` attribute, else the page's `<html lang>`, else English. */
export function resolveLang(attr: string | null | undefined): Lang {
  const tag = (attr || globalThis.document?.documentElement.lang || 'en').toLowerCase();
  return tag.startsWith('zh') ? 'zh-CN' : 'en';
}

/** Translations of some text fields by language, as offers and campaigns carry them (`i18n`). */
export type Translations<F extends string> = Partial<Record<Lang, Partial<Record<F, string>>>>;

/**
 * `field` in `lang`: the item's translation for that language when it has one, else its own text
 * (written in the campaign's default language). An empty or missing translation falls back.
 */
export function textIn<F extends string>(own: string | undefined, i18n: Translations<F> | null | undefined, field: F, lang: Lang): string | undefined {
  const t = i18n?.[lang]?.[field];
  return typeof t === 'string' && t ? t : own;
}

/** digits after the decimal point in `currency` (2 for CNY/USD, 0 for JPY); 2 when unknown */
export function minorDigits(currency: string | undefined): number {
  if (!currency) return 2;
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** `12900` CNY → `¥129`; `12950` → `¥129.50`. Without a currency, just the number. */
export function formatMoney(minor: number, currency: string | undefined, lang: Lang): string {
  const digits = minorDigits(currency);
  const value = minor / 10 ** digits;
  const fraction = Number.isInteger(value) ? 0 : digits;
  try {
    if (currency) {
      return new Intl.NumberFormat(lang, {
        style: 'currency',
        currency,
        currencyDisplay: 'narrowSymbol',
        minimumFractionDigits: fraction,
        maximumFractionDigits: digits,
      }).format(value);
    }
  } catch {
    // an unknown currency code: fall through to the bare number
  }
  return new Intl.NumberFormat(lang, { minimumFractionDigits: fraction, maximumFractionDigits: digits }).format(value) + (currency ? ` ${currency}` : '');
}

/** Time left as `mm:ss`, or `h:mm:ss` from an hour up; never negative. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}
