/**
 * Browser bundles, each self-contained (lit and socket.io-client inside):
 *   dist/browser/sdk.mjs      ESM, the SDK (`init`, `version`)
 *   dist/browser/widget.mjs   ESM, defines <livetier-widget> and <livetier-host-panel>
 *   dist/browser/livetier.js  IIFE for a script tag: <livetier-widget>, window.LiveTier, the host panel's loader
 *   dist/browser/livetier-host.js / .mjs  <livetier-host-panel> (IIFE / ESM), loaded on demand
 *   dist/browser/livetier-uplot.js  uPlot for the panel's trend chart, loaded on demand
 *   dist/browser/livetier-report.js  the report page's script (IIFE), loaded by that page only
 *   dist/browser/livetier-channel.js  the channel page's script (IIFE), loaded by that page only
 * The server serves livetier.js at /livetier.js (server/routes/assets.ts).
 */
import resolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';

const plugins = () => [
  // `browser: true` picks socket.io's browser builds: no `debug`, no `ws`, no node transports
  // the production conditions whatever NODE_ENV says: with NODE_ENV=development (or vitest's `test`)
  // the plugin adds a `development` condition, and socket.io's debug builds do not bundle
  resolve({ browser: true, exportConditions: ['browser', 'import', 'module', 'default', 'production'] }),
  // tsconfig.browser.json covers sdk/, widget/ and the shared events.ts only: no server code
  typescript({ tsconfig: './tsconfig.browser.json', outputToFilesystem: false }),
  terser({ ecma: 2020, compress: { passes: 2 } }),
];

const bundle = (input, file, format) => ({
  input,
  output: { file, format, sourcemap: true },
  plugins: plugins(),
  onwarn(warning, warn) {
    // lit's and socket.io's compiled code use `this` at the top level of some modules
    if (warning.code === 'THIS_IS_UNDEFINED') return;
    warn(warning);
  },
});

export default [
  bundle('sdk/index.ts', 'dist/browser/sdk.mjs', 'es'),
  bundle('widget/index.ts', 'dist/browser/widget.mjs', 'es'),
  bundle('sdk/script.ts', 'dist/browser/livetier.js', 'iife'),
  // issue 6: the host panel, out of the viewers' bundle: /livetier-host.js (script tag, injected by
  // livetier.js's loader when a <livetier-host-panel> appears) and an ESM build; uPlot on its own,
  // fetched by the panel the first time it draws the trend chart (/livetier-uplot.js)
  bundle('widget/livetier-host-panel/element.ts', 'dist/browser/livetier-host.js', 'iife'),
  bundle('widget/livetier-host-panel/element.ts', 'dist/browser/livetier-host.mjs', 'es'),
  bundle('widget/livetier-host-panel/uplot.ts', 'dist/browser/livetier-uplot.js', 'iife'),
  // the printable report page (/host/:streamId/report): its own script, loaded by that page only
  bundle('widget/livetier-report/page.ts', 'dist/browser/livetier-report.js', 'iife'),
  // the channel's overview page (/channel/:channel): its own script, loaded by that page only
  bundle('widget/livetier-channel/page.ts', 'dist/browser/livetier-channel.js', 'iife'),
];
