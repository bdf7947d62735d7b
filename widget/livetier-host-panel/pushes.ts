/**
 * The host's pushes as a log (issue 16): one row per push, newest first, with its funnel and,
 * when it held viewers back, its uplift; and the uplift cell the campaigns table shares.
 */
import { html, nothing } from 'lit';
import type { HostText } from './text.js';
import type { PushItem } from './api.js';

type Uplift = PushItem['uplift'] | undefined;

/** "+5.4 pts (95% CI +1 to +9.7)" with the arms' sizes, or "not enough data yet" */
export function upliftCell(u: Uplift, t: HostText, lang: string) {
  const pts = (x: number) => new Intl.NumberFormat(lang, { maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(x * 100);
  const arms = u?.n ? html`<br /><small>${t.arms(u.n.treated, u.n.control)}</small>` : nothing;
  if (!u || u.absolute === null || !u.ci95 || u.enoughData === false) return html`<span class="muted" data-uplift="none">${t.notEnough}</span>${arms}`;
  return html`<span data-uplift=${u.absolute}>${t.uplift(pts(u.absolute), pts(u.ci95[0]), pts(u.ci95[1]))}</span>${arms}`;
}

export function renderPushes(pushes: PushItem[] | null, t: HostText, lang: string, money: (minor: number) => string) {
  const c = { ...t.campaignCols, ...t.pushCols };
  const time = (at: number) => new Date(at).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  const offer = (p: PushItem) => `${p.offer.title} · ${p.offer.discount.kind === 'percent' ? `${p.offer.discount.value}%` : money(p.offer.discount.value)}`;
  return html`<div class="card wide" part="card" data-section="pushes">
    <h3>${t.pushesHeading}</h3>
    ${pushes === null
      ? html`<p class="muted">–</p>`
      : pushes.length === 0
        ? html`<p class="muted">${t.noPushes}</p>`
        : html`<div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>${c.at}</th><th>${c.tier}</th><th>${c.offer}</th><th>${c.sent}</th><th>${c.held}</th><th>${c.delivered}</th><th>${c.seen}</th>
                  <th>${c.clicked}</th><th>${c.redeemed}</th><th>${c.uplift}</th>
                </tr>
              </thead>
              <tbody>
                ${pushes.map(
                  (p) => html`<tr part="push-row" data-push=${p.id}>
                    <td><time datetime=${new Date(p.at).toISOString()}>${time(p.at)}</time></td>
                    <td><span class="badge ${p.tier}">${t.tiers[p.tier as keyof HostText['tiers']] ?? p.tier}</span></td>
                    <td>${offer(p)}</td>
                    <td data-stat="sent">${p.sent}</td>
                    <td data-stat="held">${p.held}</td>
                    <td data-stat="delivered">${p.delivered}</td>
                    <td data-stat="seen">${p.seen}</td>
                    <td data-stat="clicked">${p.clicked}</td>
                    <td data-stat="redeemed">${p.redeemed}</td>
                    <td>${upliftCell(p.uplift, t, lang)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`}
  </div>`;
}
