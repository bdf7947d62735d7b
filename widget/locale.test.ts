import { describe, expect, it } from 'vitest';
import { resolveLang, textIn, type Translations } from './locale.js';

describe('textIn: which text a viewer or host reads', () => {
  const i18n: Translations<'title' | 'description'> = { 'zh-CN': { title: '限时特惠', description: '' }, en: { title: 'Flash deal' } };

  it("takes the translation of the reader's language", () => {
    expect(textIn('闪购', i18n, 'title', 'zh-CN')).toBe('限时特惠');
    expect(textIn('闪购', i18n, 'title', 'en')).toBe('Flash deal');
  });

  it("falls back to the item's own text for a missing language, field or empty translation", () => {
    expect(textIn('Flash deal', { 'zh-CN': { title: '限时特惠' } }, 'title', 'en')).toBe('Flash deal');
    expect(textIn('Only tonight', i18n, 'description', 'zh-CN')).toBe('Only tonight');
    expect(textIn<'title' | 'description'>('Only tonight', { en: { title: 'x' } }, 'description', 'en')).toBe('Only tonight');
    expect(textIn('Flash deal', undefined, 'title', 'zh-CN')).toBe('Flash deal');
    expect(textIn('Flash deal', null, 'title', 'zh-CN')).toBe('Flash deal');
    expect(textIn(undefined, undefined, 'description', 'zh-CN')).toBeUndefined();
  });

  it('gives a translated field the item has no text of its own for', () => {
    expect(textIn(undefined, { 'zh-CN': { description: '仅限本场' } }, 'description', 'zh-CN')).toBe('仅限本场');
  });

  it('ignores translations that are not text (an old or foreign server)', () => {
    expect(textIn('Flash deal', { 'zh-CN': { title: 42 } } as never, 'title', 'zh-CN')).toBe('Flash deal');
    expect(textIn('Flash deal', 'zh-CN' as never, 'title', 'zh-CN')).toBe('Flash deal');
  });

  it('reads zh, zh-Hans and zh-TW as zh-CN, anything else as en', () => {
    expect(['zh', 'zh-Hans', 'zh-TW', 'ZH-cn'].map(resolveLang)).toEqual(['zh-CN', 'zh-CN', 'zh-CN', 'zh-CN']);
    expect(['en-US', 'fr', ''].map(resolveLang)).toEqual(['en', 'en', 'en']);
  });
});
