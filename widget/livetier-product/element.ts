/**
 * @summary A pinned product, declared as a child of `<livetier-widget>`, which renders it as a card.
 *
 * It renders nothing itself: it only carries data, so a page (or a CMS) can pin products with
 * markup alone. The widget watches its children: adding, removing or changing one updates the cards.
 *
 * @attr sku - the product's id in the shop (sent with `product_view` and `add_to_cart`)
 * @attr name - the product's name as shown
 * @attr price - price in integer minor units (`12900` is ¥129.00)
 * @attr image - optional image URL
 * @attr currency - ISO 4217 code; default: the widget's `currency`
 */
export class LiveTierProduct extends HTMLElement {
  get sku(): string {
    return this.getAttribute('sku') ?? '';
  }
  get name(): string {
    return this.getAttribute('name') ?? '';
  }
  /** minor units; NaN when missing or not a number */
  get price(): number {
    const v = this.getAttribute('price');
    return v === null || v.trim() === '' ? NaN : Number(v);
  }
  get image(): string | undefined {
    return this.getAttribute('image') || undefined;
  }
  get currency(): string | undefined {
    return this.getAttribute('currency') || undefined;
  }

  connectedCallback() {
    this.hidden = true;
  }
}

if (!customElements.get('livetier-product')) customElements.define('livetier-product', LiveTierProduct);

declare global {
  interface HTMLElementTagNameMap {
    'livetier-product': LiveTierProduct;
  }
}
