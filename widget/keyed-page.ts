/**
 * What the pages opened with a key share (the report page, widget/livetier-report/page.ts, and the
 * channel page, widget/livetier-channel/page.ts): the language from `?lang=` (default: the
 * browser's), the link to the page in the other language, a JSON read with the key as a bearer,
 * tables that scroll in focusable boxes, and the key's flow. The key is asked for once and kept
 * only in this tab's session storage; a key in the URL fragment (#key=…, never sent to any server)
 * is taken and removed from the URL; a key the server refuses (401, 403) is forgotten and asked
 * again with a message saying why. The page's markup has #toolbar, #lang-link, #keyform (with
 * #keyerror and the key's input), #status.
 */
import type { Lang } from './locale.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** `?lang=zh…` or the browser's language: zh-CN, else en */
export function pageLang(params: URLSearchParams): Lang {
  return (params.get('lang') ?? navigator.language ?? 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** the toolbar's name and the link to this page in the other language, written in that language */
export function otherLangLink(t: { actions: string; otherLang: string; otherLangTag: Lang }) {
  byId('toolbar').setAttribute('aria-label', t.actions);
  const other = new URL(location.href);
  other.searchParams.set('lang', t.otherLangTag);
  const switcher = byId<HTMLAnchorElement>('lang-link');
  switcher.textContent = t.otherLang;
  switcher.lang = t.otherLangTag;
  switcher.hreflang = t.otherLangTag;
  switcher.href = other.pathname + other.search;
}

/** GET `url` with the key; a refusal throws HttpError with the server's message */
export async function getJson<T>(url: string, key: string): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new HttpError(res.status, (body as { message?: string } | null)?.message ?? `HTTP ${res.status}`);
  return body as T;
}

/**
 * A table wider than the screen (a phone) scrolls inside its box: such a box takes the keyboard
 * focus, so it can be scrolled without a pointer (WCAG 2.1.1); a box that fits is no tab stop.
 */
export function focusableScrollBoxes(root: HTMLElement, each?: (box: HTMLElement) => void) {
  for (const box of root.querySelectorAll<HTMLElement>('.scroll')) {
    each?.(box);
    if (box.scrollWidth > box.clientWidth) box.tabIndex = 0;
    else box.removeAttribute('tabindex');
  }
}

export interface KeyFlow<T> {
  /** where this tab keeps the key */
  storageKey: string;
  /** the id of the key's input in #keyform */
  inputId: string;
  text: { loading: string; wrong: string; forbidden: string; notFound: string; failed: (message: string) => string };
  /** reads the page's data with the key (a 401 or 403 HttpError asks for the key again) */
  load: (key: string) => Promise<T>;
  /** shows it (#status still says loading until this resolves) */
  show: (data: T, key: string) => void | Promise<void>;
}

/** Opens the page with the key from the fragment or this tab, else asks for one. */
export function startKeyFlow<T>(flow: KeyFlow<T>) {
  const { storageKey, text: t } = flow;
  async function open(key: string) {
    const status = byId('status');
    status.textContent = t.loading;
    let data: T;
    try {
      data = await flow.load(key);
    } catch (err) {
      status.textContent = '';
      const code = err instanceof HttpError ? err.status : 0;
      if (code === 401 || code === 403) {
        sessionStorage.removeItem(storageKey);
        ask(code === 403 ? t.forbidden : t.wrong);
      } else {
        status.textContent = code === 404 ? t.notFound : t.failed((err as Error).message);
      }
      return;
    }
    await flow.show(data, key);
    status.textContent = '';
  }

  function ask(message = '') {
    const form = byId<HTMLFormElement>('keyform');
    form.hidden = false;
    byId('keyerror').textContent = message;
    const input = byId<HTMLInputElement>(flow.inputId);
    input.value = '';
    input.setAttribute('aria-invalid', message ? 'true' : 'false');
    input.focus();
    form.onsubmit = (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      sessionStorage.setItem(storageKey, key);
      form.hidden = true;
      void open(key);
    };
  }

  const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
  if (fromHash) {
    sessionStorage.setItem(storageKey, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const saved = sessionStorage.getItem(storageKey);
  if (saved) void open(saved);
  else ask();
}
