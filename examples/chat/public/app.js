// The chat page: talks to the server through the official client served beside it.
'use strict';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const transports = params.get('transports') ? params.get('transports').split(',') : undefined;
const state = {
  nick: params.get('nick') || localStorage.getItem('nick') || '',
  current: 'lobby',
  joined: new Set(['lobby']),
  // The server's last room list, kept to redraw the Join/Leave buttons after our own replies.
  rooms: ['lobby'],
  typing: new Map(),
};

const socket = io({ auth: { nick: state.nick }, transports });

function setStatus(kind, text) {
  const el = $('status');
  el.className = `status ${kind}`;
  el.dataset.state = kind;
  el.textContent = text;
}

function addLine(room, html, className) {
  if (room !== state.current && room !== '*') return null;
  const li = document.createElement('li');
  if (className) li.className = className;
  li.innerHTML = html;
  $('messages').appendChild(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function renderRooms(all = state.rooms) {
  state.rooms = all;
  const list = $('rooms');
  list.textContent = '';
  for (const room of all) {
    const li = document.createElement('li');
    li.dataset.room = room;
    const name = document.createElement('span');
    name.textContent = room;
    const button = document.createElement('button');
    const joined = state.joined.has(room);
    button.className = joined ? 'secondary' : '';
    button.textContent = joined ? 'Leave' : 'Join';
    button.disabled = room === 'lobby';
    button.onclick = () => (joined ? leave(room) : join(room));
    li.append(name, button);
    list.appendChild(li);
  }
  renderTabs();
}

function renderTabs() {
  const tabs = $('tabs');
  tabs.textContent = '';
  for (const room of state.joined) {
    const b = document.createElement('button');
    b.textContent = room;
    b.dataset.room = room;
    b.className = room === state.current ? 'active' : '';
    b.onclick = () => {
      state.current = room;
      $('messages').textContent = '';
      renderTabs();
    };
    tabs.appendChild(b);
  }
}

function showJoinError(text) {
  const el = $('join-error');
  el.textContent = text;
  el.hidden = !text;
  $('room-name').setAttribute('aria-invalid', text ? 'true' : 'false');
}

async function join(room) {
  const reply = await socket.emitWithAck('join', room);
  if (!reply.ok) return showJoinError(reply.error || `cannot join ${room}`);
  showJoinError('');
  state.joined.add(room);
  state.current = room;
  $('messages').textContent = '';
  // The server's 'rooms' broadcast came before this reply, while the room was not yet ours.
  renderRooms(state.rooms.includes(room) ? state.rooms : [...state.rooms, room].sort());
}

async function leave(room) {
  await socket.emitWithAck('leave', room);
  state.joined.delete(room);
  if (state.current === room) state.current = 'lobby';
  renderRooms();
}

socket.on('connect', () =>
  setStatus(
    'connected',
    `${state.reconnected ? 'reconnected' : 'connected'} as ${state.nick || '…'}`,
  ),
);
socket.on('welcome', ({ nick, rooms }) => {
  state.nick = nick;
  $('nick').value = nick;
  setStatus('connected', `${state.reconnected ? 'reconnected' : 'connected'} as ${nick}`);
  renderRooms(rooms);
  // After a reconnect the server starts a fresh session: rejoin the rooms we were in.
  for (const room of state.joined) if (room !== 'lobby') socket.emit('join', room);
});
socket.on('rooms', renderRooms);
socket.on('disconnect', (reason) => setStatus('disconnected', `disconnected (${reason})`));
socket.io.on('reconnect_attempt', (n) => setStatus('reconnecting', `reconnecting… (attempt ${n})`));
socket.io.on('reconnect', () => {
  state.reconnected = true;
  setStatus('connected', `reconnected as ${state.nick}`);
});
socket.on('connect_error', (err) => setStatus('disconnected', `cannot connect: ${err.message}`));

socket.on('chat', ({ room, nick, text, at }) => {
  if (nick === state.nick && room !== '*') return; // our own line is already shown, with its tick
  const where = room === '*' ? '<em>(everyone)</em> ' : '';
  const li = addLine(
    room,
    `${where}<span class="nick">${escapeHtml(nick)}</span>${escapeHtml(text)}`,
    'message',
  );
  // null when the line is for a room whose tab is not shown
  if (li) li.title = new Date(at).toLocaleTimeString();
});
socket.on('notice', ({ room, text }) =>
  addLine(room, `<span class="notice">${escapeHtml(text)}</span>`),
);
socket.on('typing', ({ room, nick }) => {
  if (room !== state.current) return;
  clearTimeout(state.typing.get(nick));
  state.typing.set(
    nick,
    setTimeout(() => {
      state.typing.delete(nick);
      showTyping();
    }, 2000),
  );
  showTyping();
});
function showTyping() {
  const names = [...state.typing.keys()];
  $('typing').textContent = names.length
    ? `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…`
    : '';
}

$('say-form').onsubmit = async (event) => {
  event.preventDefault();
  const text = $('text').value.trim();
  if (!text) return;
  $('text').value = '';
  const li = addLine(
    state.current,
    `<span class="nick">${escapeHtml(state.nick)}</span>${escapeHtml(text)}<span class="tick">…</span>`,
    'message pending',
  );
  const reply = await socket
    .timeout(5000)
    .emitWithAck('say', { room: state.current, text })
    .catch(() => ({ ok: false }));
  if (li) {
    li.className = reply.ok ? 'message delivered' : 'message failed';
    li.querySelector('.tick').textContent = reply.ok ? '✓' : '✗';
  }
};
$('shout').onclick = async () => {
  const text = $('text').value.trim();
  if (!text) return;
  $('text').value = '';
  await socket.emitWithAck('shout', text);
};
let lastTyping = 0;
$('text').oninput = () => {
  if (Date.now() - lastTyping < 1000) return;
  lastTyping = Date.now();
  socket.emit('typing', state.current);
};
$('join-form').onsubmit = (event) => {
  event.preventDefault();
  const room = $('room-name').value.trim();
  if (room) join(room);
  $('room-name').value = '';
};
$('room-name').oninput = () => showJoinError('');
$('nick-form').onsubmit = (event) => {
  event.preventDefault();
  localStorage.setItem('nick', $('nick').value.trim());
  socket.auth = { nick: $('nick').value.trim() };
  socket.disconnect().connect();
};
