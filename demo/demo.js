// The demo page's own script: a canvas "live stream" for the <video>, chat, likes and products.
const widget = document.getElementById('widget');
widget.setAttribute('server', location.origin);

// a looping "live" picture without any video file: a canvas captured into the <video>
const canvas = document.getElementById('scene');
const ctx = canvas.getContext('2d');
const video = document.getElementById('live-video');
let t = 0;
function draw() {
  t += 1;
  const g = ctx.createLinearGradient(0, 0, 640, 360);
  g.addColorStop(0, `hsl(${(t / 3) % 360} 60% 35%)`);
  g.addColorStop(1, `hsl(${(t / 3 + 60) % 360} 60% 20%)`);
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, 640, 360);
  ctx.fillStyle = 'rgba(255,255,255,.9)';
  ctx.font = 'bold 36px system-ui, sans-serif';
  ctx.fillText('🍵 Spring tea & silk', 40, 80);
  ctx.font = '22px system-ui, sans-serif';
  ctx.fillText(new Date().toLocaleTimeString(), 40, 120);
  ctx.beginPath();
  ctx.arc(320 + Math.sin(t / 30) * 200, 240, 30, 0, Math.PI * 2);
  ctx.fill();
  requestAnimationFrame(draw);
}
draw();
video.srcObject = canvas.captureStream(30);
video.play().catch(() => {});

const track = (type, data) => widget.client?.track(type, data);

document.getElementById('chat').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('comment');
  const text = input.value.trim();
  if (text) track('comment', { text });
  input.value = '';
});
document.getElementById('like').addEventListener('click', () => track('like', { count: 1 }));
// the widget tracks product views and add-to-cart itself; the page keeps its own cart
const cart = new Map();
widget.addEventListener('livetier-add-to-cart', (e) => {
  const { product, quantity } = e.detail;
  cart.set(product.name, (cart.get(product.name) ?? 0) + quantity);
  document.getElementById('cart').textContent = `In your cart: ${[...cart].map(([name, n]) => `${name} × ${n}`).join(', ')}`;
});
document.getElementById('lang').addEventListener('click', (e) => {
  e.preventDefault();
  const zh = widget.getAttribute('lang') !== 'zh-CN';
  widget.setAttribute('lang', zh ? 'zh-CN' : 'en');
  e.target.textContent = zh ? 'English' : '中文';
});
