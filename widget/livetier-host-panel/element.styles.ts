import { css } from 'lit';

/** `--livetier-*` tokens, component variables on `:host`, and `::part()` on the meaningful nodes. */
export const styles = css`
  :host {
    --_accent: var(--livetier-accent, #e4393c);
    --_bg: var(--livetier-bg, #ffffff);
    --_fg: var(--livetier-fg, #1f2328);
    --_radius: var(--livetier-radius, 12px);
    --_font: var(--livetier-font, system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', sans-serif);
    --_muted: color-mix(in srgb, var(--_fg) 60%, transparent);
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
    color: #1a7f37;
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
    color: #fff;
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
`;
