import { css } from 'lit';

/**
 * Three layers of theming: the page's `--livetier-*` tokens, component variables with defaults
 * on `:host`, and `::part()` on the card, title, code, copy button and timer.
 */
export const styles = css`
  :host {
    --_accent: var(--livetier-accent, #e4393c);
    --_bg: var(--livetier-bg, #ffffff);
    --_fg: var(--livetier-fg, #1f2328);
    --_radius: var(--livetier-radius, 12px);
    --_font: var(--livetier-font, system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', sans-serif);
    display: block;
    font-family: var(--_font);
    color: var(--_fg);
  }
  :host([hidden]) {
    display: none;
  }
  .stack {
    display: flex;
    flex-direction: column;
    gap: 8px;
  }
  .card {
    position: relative;
    padding: 12px 14px;
    background: var(--_bg);
    color: var(--_fg);
    border-radius: var(--_radius);
    border-inline-start: 4px solid var(--_accent);
    box-shadow: 0 4px 16px rgb(0 0 0 / 0.16);
    animation: in 0.2s ease-out;
  }
  .top {
    display: flex;
    align-items: baseline;
    justify-content: space-between;
    gap: 8px;
  }
  .discount {
    font-size: 1.4em;
    font-weight: 700;
    color: var(--_accent);
  }
  .timer {
    font-variant-numeric: tabular-nums;
    font-size: 0.85em;
    opacity: 0.75;
    white-space: nowrap;
  }
  .title {
    margin: 4px 0 0;
    font-size: 1em;
    font-weight: 600;
  }
  .description,
  .min {
    margin: 2px 0 0;
    font-size: 0.85em;
    opacity: 0.8;
  }
  .redeem {
    display: flex;
    align-items: center;
    gap: 8px;
    margin-top: 8px;
  }
  .code {
    flex: 1;
    padding: 4px 8px;
    border: 1px dashed var(--_accent);
    border-radius: calc(var(--_radius) / 2);
    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    letter-spacing: 0.05em;
    user-select: all;
    overflow-wrap: anywhere;
  }
  .copy {
    padding: 6px 12px;
    border: 0;
    border-radius: calc(var(--_radius) / 2);
    background: var(--_accent);
    color: #fff;
    font: inherit;
    font-weight: 600;
    cursor: pointer;
  }
  .copy:focus-visible {
    outline: 2px solid var(--_fg);
    outline-offset: 2px;
  }
  @keyframes in {
    from {
      opacity: 0;
      transform: translateY(8px);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .card {
      animation: none;
    }
  }
`;
