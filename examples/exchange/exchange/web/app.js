// The live page: one Server-Sent Events stream per symbol feeds the depth
// chart, the ladder, the candles and the last trades; the form posts orders
// through the REST API. Everything is drawn here, with no library.
"use strict";
const $ = (id) => document.getElementById(id);
const money = (c) => (c / 100).toFixed(2);
const css = (v) => getComputedStyle(document.documentElement).getPropertyValue(v).trim();
const BUY = css("--buy"), SELL = css("--sell"), LINE = css("--line"), DIM = css("--dim");
let stream = null, last = null;
const mine = new Map();

function fitCanvas(c) {
  const r = window.devicePixelRatio || 1, w = c.clientWidth, h = Math.round(w * c.height / c.width);
  if (c.dataset.w != w * r) { c.dataset.w = w * r; c.width = w * r; c.height = h * r; }
  const g = c.getContext("2d");
  g.setTransform(r, 0, 0, r, 0, 0);
  return { g, w, h };
}

function drawDepth(s) {
  const c = $("depth"), { g, w, h } = fitCanvas(c);
  g.clearRect(0, 0, w, h);
  const pad = 28;
  const cum = (lv) => { let t = 0; return lv.map(([p, q]) => [p, t += q]); };
  const bids = cum(s.bids), asks = cum(s.asks);
  c.dataset.levels = s.bids.length + s.asks.length;
  if (!bids.length && !asks.length) {
    g.fillStyle = DIM; g.font = "13px system-ui"; g.textAlign = "center";
    g.fillText("empty book", w / 2, h / 2);
    return;
  }
  const prices = bids.concat(asks).map((x) => x[0]);
  let lo = Math.min(...prices), hi = Math.max(...prices);
  if (hi === lo) { lo -= 1; hi += 1; }
  const maxQ = Math.max(1, ...bids.concat(asks).map((x) => x[1]));
  const X = (p) => pad + (p - lo) / (hi - lo) * (w - 2 * pad);
  const Y = (q) => h - 18 - q / maxQ * (h - 36);
  const area = (pts, color) => {
    if (!pts.length) return;
    g.beginPath(); g.moveTo(X(pts[0][0]), Y(0));
    for (const [p, q] of pts) { g.lineTo(X(p), Y(q)); }
    g.lineTo(X(pts[pts.length - 1][0]), Y(0)); g.closePath();
    g.fillStyle = color + "44"; g.fill(); g.strokeStyle = color; g.lineWidth = 1.5; g.stroke();
  };
  area(bids.map(([p, q], i) => [p, i ? q : q]), BUY);
  area(asks, SELL);
  g.fillStyle = DIM; g.font = "11px system-ui"; g.textAlign = "left";
  g.fillText("$" + money(lo), pad, h - 4);
  g.textAlign = "right"; g.fillText("$" + money(hi), w - pad, h - 4);
  g.textAlign = "left"; g.fillText(maxQ.toLocaleString() + " sh", 4, 12);
  if (bids.length && asks.length) {
    g.textAlign = "center"; g.fillStyle = "#d8dee6";
    g.fillText("spread $" + money(s.asks[0][0] - s.bids[0][0]), w / 2, 14);
  }
}

function drawLadder(s) {
  const rows = [];
  for (let i = 0; i < 10; i++) {
    const b = s.bids[i], a = s.asks[i];
    rows.push("<tr><td>" + (b ? b[1].toLocaleString() : "") + "</td><td>" + (b ? money(b[0]) : "") +
      "</td><td>" + (a ? money(a[0]) : "") + "</td><td>" + (a ? a[1].toLocaleString() : "") + "</td></tr>");
  }
  $("ladder").innerHTML = rows.join("");
}

function drawCandles(s) {
  const c = $("candles"), { g, w, h } = fitCanvas(c);
  g.clearRect(0, 0, w, h);
  const cs = s.candles;
  c.dataset.candles = cs.length;
  const left = 8, right = 62, top = 10, bottom = 24, volH = 50;
  if (!cs.length) {
    g.fillStyle = DIM; g.font = "13px system-ui"; g.textAlign = "center";
    g.fillText("no trades yet", w / 2, h / 2);
    return;
  }
  let lo = Math.min(...cs.map((x) => x.low)), hi = Math.max(...cs.map((x) => x.high));
  if (hi === lo) { lo -= 1; hi += 1; }
  const maxV = Math.max(...cs.map((x) => x.volume));
  const n = 60, cw = (w - left - right) / n;
  const Y = (p) => top + (hi - p) / (hi - lo) * (h - top - bottom - volH);
  g.strokeStyle = LINE; g.lineWidth = 1; g.fillStyle = DIM; g.font = "11px system-ui"; g.textAlign = "left";
  for (let i = 0; i <= 4; i++) {
    const p = lo + (hi - lo) * i / 4, y = Y(p);
    g.beginPath(); g.moveTo(left, y); g.lineTo(w - right, y); g.stroke();
    g.fillText(money(p), w - right + 6, y + 4);
  }
  cs.forEach((k, i) => {
    const x = left + (n - cs.length + i) * cw + cw / 2, up = k.close >= k.open, col = up ? BUY : SELL;
    g.strokeStyle = col; g.fillStyle = col;
    g.beginPath(); g.moveTo(x, Y(k.high)); g.lineTo(x, Y(k.low)); g.stroke();
    const y1 = Y(Math.max(k.open, k.close)), y2 = Y(Math.min(k.open, k.close));
    g.fillRect(x - cw * 0.35, y1, cw * 0.7, Math.max(1, y2 - y1));
    const vh = k.volume / maxV * (volH - 8);
    g.globalAlpha = 0.35; g.fillRect(x - cw * 0.35, h - bottom - vh, cw * 0.7, vh); g.globalAlpha = 1;
  });
  g.fillStyle = DIM; g.textAlign = "left";
  const t = (s) => new Date(s * 1000).toISOString().slice(11, 16);
  g.fillText(t(cs[0].start), left + (n - cs.length) * cw, h - 6);
  g.textAlign = "right"; g.fillText(t(cs[cs.length - 1].start) + " UTC", w - right, h - 6);
}

function drawTrades(s) {
  $("trades").innerHTML = s.trades.slice(0, 14).map((t) =>
    "<tr><td>" + new Date(t.time).toISOString().slice(11, 19) + "</td><td class=\"" + t.side + "\">" + money(t.price) +
    "</td><td>" + t.qty.toLocaleString() + "</td></tr>").join("");
}

function render(s) {
  last = s;
  const q = s.quote;
  $("q-last").textContent = q.last ? money(q.last) : "–";
  $("q-bid").textContent = q.bidPrice ? money(q.bidPrice) + " × " + q.bidQty : "–";
  $("q-ask").textContent = q.askPrice ? money(q.askPrice) + " × " + q.askQty : "–";
  $("q-vol").textContent = q.volume.toLocaleString();
  $("q-trades").textContent = q.trades.toLocaleString();
  drawDepth(s); drawLadder(s); drawCandles(s); drawTrades(s);
  $("status").textContent = "live · seq " + s.seq.toLocaleString();
  $("status").className = "status live";
}

function subscribe(sym) {
  if (stream) stream.close();
  stream = new EventSource("/marketdata/stream?symbol=" + encodeURIComponent(sym));
  stream.onmessage = (e) => render(JSON.parse(e.data));
  stream.onerror = () => { $("status").textContent = "reconnecting…"; $("status").className = "status"; };
  if (!$("price").value || $("price").dataset.auto) { $("price").value = ""; }
}

function showMine() {
  $("mine").innerHTML = "";
  for (const [id, o] of mine) {
    const li = document.createElement("li");
    li.textContent = "#" + id + " " + o.side + " " + o.remainingQuantity + " " + o.symbol + " @ " + money(o.price);
    const b = document.createElement("button");
    b.textContent = "Cancel";
    b.onclick = () => cancel(id);
    li.appendChild(b);
    $("mine").appendChild(li);
  }
}

async function api(method, path, body) {
  const r = await fetch(path, { method, headers: { "X-API-Key": $("key").value, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, body: await r.json() };
}

async function cancel(id) {
  const r = await api("DELETE", "/v1/order/" + id);
  mine.delete(id); showMine();
  result(r.status === 200 ? "canceled #" + id + " (" + r.body.canceledQuantity + " shares)" : r.body.error, r.status === 200);
}

function result(text, ok) { $("result").textContent = text; $("result").className = "result " + (ok ? "ok" : "err"); }

$("order").addEventListener("submit", async (e) => {
  e.preventDefault();
  const type = $("type").value;
  const req = { symbol: $("symbol").value, side: document.querySelector("input[name=side]:checked").value,
    orderType: type, quantity: parseInt($("qty").value, 10) };
  if (type === "limit") { req.price = Math.round(parseFloat($("price").value) * 100); }
  try {
    const r = await api("POST", "/v1/order", req);
    if (r.status !== 200) { result(r.status + ": " + r.body.error, false); return; }
    const o = r.body;
    result("#" + o.orderId + " " + o.status + (o.reason ? " (" + o.reason + ")" : "") + ": filled " +
      o.filledQuantity + ", resting " + o.remainingQuantity, o.status !== "rejected");
    if (o.remainingQuantity > 0) { mine.set(o.orderId, o); showMine(); }
  } catch (err) { result(String(err), false); }
});

$("type").addEventListener("change", () => { $("price").disabled = $("type").value === "market"; });
$("symbol").addEventListener("change", () => subscribe($("symbol").value));
window.addEventListener("resize", () => { if (last) render(last); });
subscribe($("symbol").value);
