import { css } from 'lit';

/**
 * Three layers of theming: the page's `--livetier-*` tokens, component variables with defaults
 * on `:host`, and `::part()` on the meaningful inner nodes. The default colours pass WCAG AA
 * (accent on white 5.7:1, white on accent 5.7:1, text 15:1); every button shows a focus ring.
 */
export const styles = css`
  :host {
    --_accent: var(--livetier-accent, #c81e2a);
    --_on-accent: var(--livetier-accent-fg, #ffffff);
    --_focus: var(--livetier-focus, #1a56db);
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
  button {
    min-height: 32px;
    padding: 6px 12px;
    border: 0;
    border-radius: calc(var(--_radius) / 2);
    background: var(--_accent);
    color: var(--_on-accent);
    font: inherit;
    font-weight: 600;
    cursor: pointer;
  }
  button:focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  button:active {
    transform: translateY(1px);
  }
  .use {
    width: 100%;
    margin-top: 8px;
    background: transparent;
    color: var(--_accent);
    box-shadow: inset 0 0 0 2px var(--_accent);
  }
  .products {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(140px, 1fr));
    gap: 8px;
    margin: 8px 0 0;
    padding: 0;
    list-style: none;
  }
  .product {
    display: flex;
    flex-direction: column;
    gap: 4px;
    padding: 8px;
    background: var(--_bg);
    border-radius: var(--_radius);
    box-shadow: 0 2px 8px rgb(0 0 0 / 0.12);
  }
  .product img {
    width: 100%;
    aspect-ratio: 1;
    object-fit: cover;
    border-radius: calc(var(--_radius) / 2);
  }
  .name {
    font-size: 0.9em;
  }
  .price {
    font-weight: 700;
    color: var(--_accent);
  }
  .add {
    margin-top: auto;
  }
  .poll {
    margin-bottom: 8px;
  }
  .ratings {
    display: flex;
    gap: 6px;
    margin-top: 8px;
  }
  .rating {
    flex: 1;
  }
  .thanks {
    margin: 8px 0 0;
  }
  @keyframes in {
    from {
      opacity: 0;
      transform: translateY(8px);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .card,
    button {
      animation: none;
      transition: none;
      transform: none !important;
    }
  }
`;
