/**
 * The elements (built to dist/browser/widget.mjs). Importing this defines
 * `<livetier-widget>`, `<livetier-product>` and `<livetier-host-panel>`.
 */
export { LiveTierWidget, type Product, type OfferClickDetail, type AddToCartDetail } from './livetier-widget/element.js';
export { LiveTierProduct } from './livetier-product/element.js';
export { LiveTierHostPanel } from './livetier-host-panel/element.js';
