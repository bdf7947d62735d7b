/**
 * Browser bundles, each self-contained (lit and socket.io-client inside):
 *   dist/browser/sdk.mjs      ESM, the SDK (`init`, `version`)
 *   dist/browser/widget.mjs   ESM, defines <livetier-widget> and <livetier-host-panel>
 *   dist/browser/livetier.js  IIFE for a script tag: both elements + window.LiveTier
 * The server serves livetier.js at /livetier.js (server/routes/assets.ts).
 */
import resolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';

const plugins = () => [
  // `browser: true` picks socket.io's browser builds: no `debug`, no `ws`, no node transports
  resolve({ browser: true }),
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
];
