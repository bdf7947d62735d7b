/** custom-elements.json is hand-written: it must list what the elements' JSDoc declares. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync('custom-elements.json', 'utf8'));
const decl = (tag: string) => manifest.modules.flatMap((m: any) => m.declarations).find((d: any) => d.tagName === tag);
const tags = (file: string, tag: string) => [...readFileSync(file, 'utf8').matchAll(new RegExp(`@${tag} ([\\w-]+)`, 'g'))].map((m) => m[1]).sort();
const names = (list: { name: string }[] = []) => list.map((x) => x.name).sort();

describe('custom-elements.json', () => {
  const file = 'widget/livetier-widget/element.ts';
  it('lists every part, CSS property, event and attribute of <livetier-widget>', () => {
    const w = decl('livetier-widget');
    expect(names(w.cssParts)).toEqual(tags(file, 'csspart'));
    expect(names(w.cssProperties)).toEqual(tags(file, 'cssprop'));
    expect(names(w.events)).toEqual(tags(file, 'fires'));
    expect(names(w.attributes)).toEqual(tags(file, 'attr'));
  });

  it('lists the attributes of <livetier-product>', () => {
    expect(names(decl('livetier-product').attributes)).toEqual(tags('widget/livetier-product/element.ts', 'attr'));
  });
});
