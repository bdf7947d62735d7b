// The host page: asks for the host key once and keeps it only in this tab's session storage.
// A key in the URL fragment (#key=…, never sent to any server) is taken and removed from the URL.
const params = new URLSearchParams(location.search);
const streamId = decodeURIComponent(location.pathname.match(/^\/host\/([^/]+)/)?.[1] ?? params.get('stream') ?? 'demo');
const storageKey = `livetier:host-key:${streamId}`;
document.getElementById('stream-label').textContent = `stream ${streamId}`;

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
  panel.setAttribute('currency', 'CNY');
  const lang = params.get('lang') ?? (navigator.language?.startsWith('zh') ? 'zh-CN' : 'en');
  panel.setAttribute('lang', lang);
  panel.addEventListener('livetier-auth-error', () => {
    sessionStorage.removeItem(storageKey);
    panel.remove();
    ask('Wrong host key for this stream. Please check it and try again.');
  });
  document.getElementById('main').append(panel);
}

function ask(message = '') {
  const form = document.getElementById('keyform');
  form.hidden = false;
  document.getElementById('keyerror').textContent = message;
  form.onsubmit = (e) => {
    e.preventDefault();
    const key = document.getElementById('hostkey').value.trim();
    if (!key) return;
    sessionStorage.setItem(storageKey, key);
    form.hidden = true;
    open(key);
  };
}

const saved = sessionStorage.getItem(storageKey);
if (saved) open(saved);
else ask();
