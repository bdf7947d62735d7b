// The host page (/host/:streamId): asks for the host key once and keeps it only in this tab's
// session storage. A key in the URL fragment (#key=…, never sent to any server) is taken and
// removed from the URL. A wrong key is forgotten and asked again with a clear message.
const params = new URLSearchParams(location.search);
const streamId = decodeURIComponent(location.pathname.match(/^\/host\/([^/]+)/)?.[1] ?? params.get('stream') ?? 'demo');
const storageKey = `livetier:host-key:${streamId}`;
const lang = params.get('lang') ?? (navigator.language?.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en');
document.documentElement.lang = lang;

const TEXT = {
  en: {
    heading: 'LiveTier host dashboard',
    stream: (id) => `stream ${id}`,
    label: 'Host key for this stream',
    open: 'Open dashboard',
    report: 'Report',
    wrong: 'Wrong host key for this stream. Please check it and try again.',
    forbidden: 'This key belongs to another stream. Please use this stream\u2019s host key.',
  },
  'zh-CN': {
    heading: 'LiveTier 主播看板',
    stream: (id) => `直播 ${id}`,
    label: '本场直播的主播密钥',
    open: '打开看板',
    report: '报告',
    wrong: '主播密钥错误，请检查后重试。',
    forbidden: '该密钥属于另一场直播，请使用本场直播的主播密钥。',
  },
};
const t = TEXT[lang] ?? TEXT.en;
document.getElementById('heading').textContent = t.heading;
document.getElementById('stream-label').textContent = t.stream(streamId);
document.getElementById('keylabel').textContent = t.label;
document.getElementById('keybutton').textContent = t.open;
// the printable report of the stream, in the same language; it reads the key this page keeps
const reportLink = document.getElementById('report-link');
reportLink.textContent = t.report;
reportLink.href = `/host/${encodeURIComponent(streamId)}/report?lang=${lang}`;

const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
if (fromHash) {
  sessionStorage.setItem(storageKey, fromHash);
  history.replaceState(null, '', location.pathname + location.search);
}

function open(key) {
  const panel = document.createElement('livetier-host-panel');
  panel.setAttribute('server', location.origin);
  panel.setAttribute('stream', streamId);
  panel.setAttribute('host-key', key);
  panel.setAttribute('currency', params.get('currency') ?? 'CNY');
  panel.setAttribute('lang', lang);
  panel.addEventListener('livetier-auth-error', (e) => {
    sessionStorage.removeItem(storageKey);
    panel.remove();
    ask(e.detail?.code === 'forbidden' ? t.forbidden : t.wrong);
  });
  document.getElementById('main').append(panel);
}

function ask(message = '') {
  const form = document.getElementById('keyform');
  form.hidden = false;
  document.getElementById('keyerror').textContent = message;
  const input = document.getElementById('hostkey');
  input.value = '';
  input.focus();
  form.onsubmit = (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(storageKey, key);
    form.hidden = true;
    open(key);
  };
}

const saved = sessionStorage.getItem(storageKey);
if (saved) open(saved);
else ask();
