/**
 * The channel page (/channel/:channel, demo/channel.html), built to /livetier-channel.js.
 *
 * Like the host and report pages it asks for a key once (../keyed-page.ts): the channel's
 * read-only key (`lt_channel_…`, from the admin) or the admin key. `?lang=zh-CN|en` picks the
 * language (default: the browser's), `?limit=` how many streams (1–100).
 *
 * It reads GET /v1/channels/:channel/overview and renders it with renderOverview. Nothing inline:
 * the page runs under a Content-Security-Policy allowing only this server's scripts, styles and
 * connections.
 */
import { render } from 'lit';
import { renderOverview, type OverviewData } from './view.js';
import { CHANNEL_TEXT } from './text.js';
import { byId, focusableScrollBoxes, getJson, otherLangLink, pageLang, startKeyFlow } from '../keyed-page.js';

const params = new URLSearchParams(location.search);
const channel = decodeURIComponent(location.pathname.match(/^\/channel\/([^/]+)/)?.[1] ?? params.get('channel') ?? 'demo');
const lang = pageLang(params);
const t = CHANNEL_TEXT[lang];

document.documentElement.lang = lang;
document.title = t.documentTitle(channel);
otherLangLink(t);
byId('keylabel').textContent = t.keyLabel;
byId('keybutton').textContent = t.open;

const scrollBoxes = () => focusableScrollBoxes(byId('overview'));

startKeyFlow<OverviewData>({
  storageKey: `livetier:channel-key:${channel}`,
  inputId: 'channelkey',
  text: t,
  load: (key) => {
    const limit = params.get('limit');
    const query = limit ? `?limit=${encodeURIComponent(limit)}` : '';
    return getJson<OverviewData>(`/v1/channels/${encodeURIComponent(channel)}/overview${query}`, key);
  },
  show: (data) => {
    render(renderOverview({ data, lang, currency: data.currency ?? params.get('currency') ?? 'CNY' }), byId('overview'));
    scrollBoxes();
    addEventListener('resize', scrollBoxes);
    byId('overview').dataset.ready = 'true';
  },
});
