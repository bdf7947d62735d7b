import { css } from 'lit';

/** `--livetier-*` tokens, component variables on `:host`, and `::part()` on the meaningful nodes. */
export const styles = css`
  :host {
    /* the defaults meet WCAG AA (4.5:1): white on #d0302f is 5.1:1; a page that sets a light
       --livetier-accent sets a dark --livetier-accent-fg with it (demo/host.html) */
    --_accent: var(--livetier-accent, #d0302f);
    --_accent-fg: var(--livetier-accent-fg, #ffffff);
    --_ok: var(--livetier-ok, #1a7f37);
    --_bg: var(--livetier-bg, #ffffff);
    --_fg: var(--livetier-fg, #1f2328);
    --_radius: var(--livetier-radius, 12px);
    --_font: var(--livetier-font, system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', sans-serif);
    --_muted: color-mix(in srgb, var(--_fg) 66%, transparent);
    display: block;
    font-family: var(--_font);
    color: var(--_fg);
  }
  :host([hidden]) {
    display: none;
  }
  .panel {
    display: grid;
    gap: 16px;
    padding: 16px;
    background: var(--_bg);
    border-radius: var(--_radius);
    box-shadow: 0 2px 12px rgb(0 0 0 / 0.08);
  }
  header {
    display: flex;
    align-items: baseline;
    justify-content: space-between;
    gap: 8px;
  }
  h2 {
    margin: 0;
    font-size: 1.1em;
  }
  .status {
    font-size: 0.85em;
    color: var(--_muted);
  }
  .status.live {
    color: var(--_ok);
  }
  .error {
    margin: 0;
    padding: 8px 12px;
    border-radius: calc(var(--_radius) / 2);
    background: color-mix(in srgb, var(--_accent) 12%, transparent);
    color: var(--_accent);
    font-weight: 600;
  }
  .tiers,
  .stats {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(120px, 1fr));
    gap: 8px;
    margin: 0;
  }
  .tier,
  .stat {
    display: grid;
    gap: 2px;
    padding: 10px 12px;
    border-radius: calc(var(--_radius) / 2);
    background: color-mix(in srgb, var(--_fg) 5%, transparent);
  }
  .tier {
    border-top: 3px solid var(--_accent);
  }
  .tier.mid {
    border-top-color: color-mix(in srgb, var(--_accent) 60%, transparent);
  }
  .tier.potential {
    border-top-color: color-mix(in srgb, var(--_accent) 30%, transparent);
  }
  .label,
  dt {
    font-size: 0.8em;
    color: var(--_muted);
  }
  .count,
  dd {
    margin: 0;
    font-size: 1.5em;
    font-weight: 700;
    font-variant-numeric: tabular-nums;
  }
  form {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(140px, 1fr));
    gap: 8px 12px;
    align-items: end;
  }
  form h3 {
    grid-column: 1 / -1;
    margin: 0;
    font-size: 1em;
  }
  label {
    display: grid;
    gap: 4px;
    font-size: 0.85em;
  }
  input,
  select,
  button {
    font: inherit;
    padding: 6px 8px;
    border: 1px solid color-mix(in srgb, var(--_fg) 25%, transparent);
    border-radius: calc(var(--_radius) / 2);
    background: var(--_bg);
    color: var(--_fg);
  }
  button {
    border: 0;
    background: var(--_accent);
    color: var(--_accent-fg);
    font-weight: 600;
    cursor: pointer;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  .result {
    grid-column: 1 / -1;
    margin: 0;
    min-height: 1.2em;
    font-size: 0.9em;
  }
  .result.failed {
    color: var(--_accent);
  }

  /* issue 6: the dashboard's sections */
  .tabs {
    display: inline-flex;
    gap: 4px;
  }
  button.tab {
    padding: 2px 10px;
    font-weight: 500;
    font-size: 0.85em;
    background: transparent;
    color: var(--_fg);
    border: 1px solid color-mix(in srgb, var(--_fg) 25%, transparent);
  }
  button.tab[aria-pressed='true'] {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_accent-fg);
  }
  input,
  select {
    box-sizing: border-box;
    width: 100%;
    min-width: 0;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr));
    gap: 16px;
    align-items: start;
  }
  .card {
    display: grid;
    gap: 10px;
    min-width: 0;
    padding: 12px;
    border: 1px solid color-mix(in srgb, var(--_fg) 10%, transparent);
    border-radius: calc(var(--_radius) * 0.75);
  }
  .card.audience {
    border: 0;
    padding: 0;
  }
  .card.wide {
    grid-column: 1 / -1;
  }
  .card > header {
    display: flex;
    justify-content: space-between;
    align-items: center;
  }
  h3,
  h4 {
    margin: 0;
    font-size: 1em;
  }
  h4 {
    font-size: 0.9em;
    color: var(--_muted);
  }
  .muted {
    margin: 0;
    color: var(--_muted);
    font-size: 0.9em;
  }
  .lifecycle,
  .legend {
    display: flex;
    flex-wrap: wrap;
    gap: 6px 14px;
    margin: 0;
    padding: 0;
    list-style: none;
    font-size: 0.85em;
  }
  /* no style attributes anywhere (a strict CSP without style-src 'unsafe-inline' blocks them): swatches by class */
  .legend i {
    display: inline-block;
    width: 10px;
    height: 10px;
    margin-right: 4px;
    border-radius: 2px;
  }
  .swatch[data-series='high'] {
    background: #e4393c;
  }
  .swatch[data-series='mid'] {
    background: #f39c12;
  }
  .swatch[data-series='potential'] {
    background: #3b82f6;
  }
  .swatch[data-series='new'] {
    background: #22c55e;
  }
  .swatch[data-series='active'] {
    background: #3b82f6;
  }
  .swatch[data-series='at_risk'] {
    background: #f39c12;
  }
  .swatch[data-series='lapsed'] {
    background: #9ca3af;
  }
  .swatch[data-series='watching'] {
    background: #3b82f6;
  }
  .swatch[data-series='orders'] {
    background: #f39c12;
  }
  .swatch[data-series='gmv'] {
    background: #e4393c;
  }
  .chart {
    min-height: 180px;
    overflow: hidden;
  }
  .scroll {
    overflow-x: auto;
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: 0.9em;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    padding: 6px 8px;
    text-align: right;
    white-space: nowrap;
    border-bottom: 1px solid color-mix(in srgb, var(--_fg) 8%, transparent);
  }
  tbody th,
  thead th:first-child {
    text-align: left;
    font-weight: 600;
  }
  .rate {
    color: var(--_muted);
  }
  .tops {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(min(100%, 200px), 1fr));
    gap: 12px;
  }
  .top ol,
  .segments,
  .activity,
  .reasons-list {
    display: grid;
    gap: 6px;
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .segments li {
    display: grid;
    gap: 2px;
    padding: 6px 8px;
    border-radius: 6px;
    background: color-mix(in srgb, var(--_fg) 4%, transparent);
  }
  .segments .shares {
    font-variant-numeric: tabular-nums;
  }
  .segments .reasons,
  .note {
    color: var(--_muted);
  }
  button.viewer {
    display: grid;
    gap: 2px;
    width: 100%;
    text-align: left;
    background: color-mix(in srgb, var(--_fg) 4%, transparent);
    color: var(--_fg);
    font-weight: 400;
  }
  button.ghost {
    background: transparent;
    color: var(--_accent);
    border: 1px solid currentColor;
    padding: 4px 10px;
  }
  .who {
    overflow-wrap: anywhere;
  }
  .reasons {
    color: var(--_muted);
  }
  .reasons-list li::before {
    content: '• ';
  }
  .badge {
    display: inline-block;
    padding: 0 6px;
    border-radius: 999px;
    font-size: 0.75em;
    background: color-mix(in srgb, var(--_fg) 10%, transparent);
  }
  .badge.high {
    background: var(--_accent);
    color: var(--_accent-fg);
  }
  .badge.mid {
    background: color-mix(in srgb, var(--_accent) 35%, transparent);
  }
  .kv {
    display: grid;
    grid-template-columns: auto 1fr;
    gap: 2px 12px;
    margin: 0;
    font-size: 0.9em;
  }
  .kv dd {
    margin: 0;
    font-size: 1em;
    font-weight: 600;
    text-align: right;
  }
  .activity {
    max-height: 320px;
    overflow-y: auto;
    font-size: 0.9em;
  }
  .activity li {
    overflow-wrap: anywhere;
  }
  .activity time {
    color: var(--_muted);
    font-variant-numeric: tabular-nums;
  }
  .span {
    grid-column: 1 / -1;
  }
  .bars {
    display: grid;
    gap: 4px;
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .bars li {
    display: grid;
    grid-template-columns: 1.5em 1fr 3em;
    align-items: center;
    gap: 6px;
  }
  .bars progress {
    width: 100%;
    height: 10px;
    appearance: none;
    border: 0;
    border-radius: 3px;
    background: color-mix(in srgb, var(--_fg) 8%, transparent);
    accent-color: var(--_accent);
  }
  .bars progress::-webkit-progress-bar {
    border-radius: 3px;
    background: color-mix(in srgb, var(--_fg) 8%, transparent);
  }
  .bars progress::-webkit-progress-value {
    border-radius: 3px;
    background: var(--_accent);
  }
  .bars progress::-moz-progress-bar {
    border-radius: 3px;
    background: var(--_accent);
  }
  .bars b {
    text-align: right;
  }
  .poll p {
    margin: 0 0 6px;
  }
  @media (max-width: 480px) {
    .panel {
      padding: 10px;
      gap: 12px;
    }
    .count,
    dd {
      font-size: 1.25em;
    }
  }
  /* uPlot's own stylesheet (MIT), inside the shadow root where the chart lives */
  .uplot, .uplot *, .uplot *::before, .uplot *::after {box-sizing: border-box;}.uplot {font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Segoe UI Symbol", "Noto Color Emoji";line-height: 1.5;width: min-content;}.u-title {text-align: center;font-size: 18px;font-weight: bold;}.u-wrap {position: relative;user-select: none;}.u-over, .u-under {position: absolute;}.u-under {overflow: hidden;}.uplot canvas {display: block;position: relative;width: 100%;height: 100%;}.u-axis {position: absolute;}.u-legend {font-size: 14px;margin: auto;text-align: center;}.u-inline {display: block;}.u-inline * {display: inline-block;}.u-inline tr {margin-right: 16px;}.u-legend th {font-weight: 600;}.u-legend th > * {vertical-align: middle;display: inline-block;}.u-legend .u-marker {width: 1em;height: 1em;margin-right: 4px;background-clip: padding-box !important;}.u-inline.u-live th::after {content: ":";vertical-align: middle;}.u-inline:not(.u-live) .u-value {display: none;}.u-series > * {padding: 4px;}.u-series th {cursor: pointer;}.u-legend .u-off > * {opacity: 0.3;}.u-select {background: rgba(0,0,0,0.07);position: absolute;pointer-events: none;}.u-cursor-x, .u-cursor-y {position: absolute;left: 0;top: 0;pointer-events: none;will-change: transform;}.u-hz .u-cursor-x, .u-vt .u-cursor-y {height: 100%;border-right: 1px dashed #607D8B;}.u-hz .u-cursor-y, .u-vt .u-cursor-x {width: 100%;border-bottom: 1px dashed #607D8B;}.u-cursor-pt {position: absolute;top: 0;left: 0;border-radius: 50%;border: 0 solid;pointer-events: none;will-change: transform;/*this has to be !important since we set inline "background" shorthand */background-clip: padding-box !important;}.u-axis.u-off, .u-select.u-off, .u-cursor-x.u-off, .u-cursor-y.u-off, .u-cursor-pt.u-off {display: none;}
`;
