/**
 * Both elements (built to dist/browser/widget.mjs). Importing this defines
 * `<livetier-widget>` and `<livetier-host-panel>`.
 */
export { LiveTierWidget } from './livetier-widget/element.js';
export { LiveTierHostPanel } from './livetier-host-panel/element.js';
