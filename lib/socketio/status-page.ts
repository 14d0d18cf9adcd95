/** The status page's HTML (self-contained; the client bundle comes from the server). */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>socketio-actors status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6fa;color:#1d2430}
header{background:#1d2430;color:#fff;padding:.6rem 1.2rem;display:flex;justify-content:space-between}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem;padding:1rem}
section{background:#fff;border-radius:.5rem;padding:.8rem;box-shadow:0 1px 3px #0002}
h2{font-size:.95rem;margin:0 0 .5rem}table{width:100%;border-collapse:collapse;font-size:.9rem}
td{padding:.2rem 0;border-bottom:1px solid #eef0f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
#live{font-size:.85rem}#live.ok{color:#7fdc9f}#live.down{color:#f08a7e}
svg{width:100%;height:120px;background:#fafbfd}
</style></head><body>
<header><strong>socketio-actors status</strong><span id="live" class="down">connecting…</span></header>
<main>
<section><h2>Connection actors</h2><table id="phases"></table></section>
<section><h2>Scheduler</h2><table id="scheduler"></table></section>
<section><h2>Clients per namespace</h2><table id="namespaces"></table></section>
<section><h2>Rooms</h2><table id="rooms"></table></section>
<section style="grid-column:1/-1"><h2>Packets per second (in <span style="color:#3a66d1">blue</span>, out <span style="color:#2e8b57">green</span>)</h2>
<svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none"><polyline id="in" fill="none" stroke="#3a66d1" stroke-width="2"/><polyline id="out" fill="none" stroke="#2e8b57" stroke-width="2"/></svg>
<p id="rates"></p></section>
</main>
<script src="__SOCKET_PATH__/socket.io.min.js"></script>
<script>
const rows = (id, pairs) => { const t = document.getElementById(id); t.textContent = '';
  for (const [k, v] of pairs) { const tr = t.insertRow(); tr.insertCell().textContent = k; const c = tr.insertCell(); c.className = 'n'; c.textContent = v; } };
const history = [];
const socket = io('__NAMESPACE__', { path: '__SOCKET_PATH__/' });
const live = document.getElementById('live');
socket.on('connect', () => { live.textContent = 'live'; live.className = 'ok'; });
socket.on('disconnect', () => { live.textContent = 'disconnected'; live.className = 'down'; });
socket.on('connect_error', (e) => { live.textContent = 'refused: ' + e.message; live.className = 'down'; });
socket.on('status', (s) => {
  rows('phases', [['handshake', s.phases.handshake], ['connected', s.phases.connected], ['upgrading', s.phases.upgrading], ['closed (last minute)', s.phases.closedLastMinute]]);
  rows('scheduler', [['async mode', s.asyncMode], ['queued', s.load.queued], ['busy workers', s.load.busy]]);
  rows('namespaces', Object.entries(s.namespaces));
  rows('rooms', s.rooms.length ? s.rooms.map((r) => [r.namespace + ' ' + r.room, r.size]) : [['(none)', '']]);
  history.push([s.packetsInPerSecond, s.packetsOutPerSecond]); if (history.length > 60) history.shift();
  const max = Math.max(1, ...history.flat());
  const line = (i) => history.map((h, x) => (x * 600 / 59).toFixed(1) + ',' + (118 - h[i] / max * 110).toFixed(1)).join(' ');
  document.getElementById('in').setAttribute('points', line(0));
  document.getElementById('out').setAttribute('points', line(1));
  document.getElementById('rates').textContent = 'in ' + s.packetsInPerSecond + '/s, out ' + s.packetsOutPerSecond + '/s';
});
</script></body></html>`;
