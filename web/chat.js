// chat.js -- the demo's chat client: sign-in, rooms, timeline, composer.
//
// It knows people and rooms, and speaks only the Matrix client-server API
// through matrix.js. Each tab keeps its own session in sessionStorage, so two
// tabs can be two people; the sessions of this browser are also remembered
// in localStorage, and a new tab offers to continue as one of them.

import { Client, MatrixError, login, register } from './matrix.js';
import { Rooms } from './rooms.js';

const SESSION_KEY = 'hometab-demo-session';
const TYPING_IDLE_MS = 4000;
const GROUP_GAP_MS = 5 * 60 * 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function timeOf(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function dayOf(ts) {
  return new Date(ts).toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });
}

function localpart(userId) {
  return userId.replace(/^@/, '').split(':')[0];
}

export class ChatApp {
  constructor(doc) {
    this.doc = doc;
    this.$ = (id) => doc.getElementById(id);
    this.client = null;
    this.rooms = null;
    this.current = null;      // open room id
    this.since = null;
    this.syncAbort = null;
    this.pending = new Map(); // txnId -> { roomId, body, state, eventId }
    this.typingSent = 0;
    this.typingTimer = null;
    this.noTyping = false;     // the server has no typing endpoint
    this.noReceipts = false;
    this.#wire();
  }

  start() {
    const saved = sessionStorage.getItem(SESSION_KEY);
    if (saved) this.#signedIn(JSON.parse(saved));
    else this.#showLogin();
  }

  #knownSessions() {
    try {
      return JSON.parse(localStorage.getItem(`${SESSION_KEY}s`) ?? '{}');
    } catch {
      return {};
    }
  }

  #remember(session, keep) {
    const known = this.#knownSessions();
    if (keep) known[session.userId] = session;
    else delete known[session.userId];
    localStorage.setItem(`${SESSION_KEY}s`, JSON.stringify(known));
  }

  // ---- signing in and out

  #wire() {
    const form = this.$('login-form');
    const submit = async (kind) => {
      const username = this.$('login-username').value.trim();
      const password = this.$('login-password').value;
      const message = this.$('login-message');
      if (!username || !password) {
        message.textContent = 'Choose a user name and a password.';
        return;
      }
      message.textContent = kind === 'register' ? 'Creating your account…' : 'Signing in…';
      form.classList.add('busy');
      try {
        const session = kind === 'register' ? await register(username, password) : await login(username, password);
        message.textContent = '';
        this.#signedIn(session);
      } catch (e) {
        message.textContent = e.message;
      } finally {
        form.classList.remove('busy');
      }
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submit(e.submitter?.value === 'register' ? 'register' : 'login');
    });
    this.$('logout-button').addEventListener('click', () => this.#logout(true));
    this.$('create-room-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#createRoom();
    });
    this.$('join-room-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#joinRoom(this.$('join-room-input').value.trim());
    });
    this.$('invite-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#invite();
    });
    this.$('composer').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#send();
    });
    const input = this.$('composer-input');
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        this.#send();
      }
    });
    input.addEventListener('input', () => this.#typed());
    this.$('load-older').addEventListener('click', () => this.#loadOlder());
    this.$('accept-invite').addEventListener('click', () => this.#joinRoom(this.current));
    this.$('decline-invite').addEventListener('click', () => this.#leave(this.current));
    this.doc.addEventListener('visibilitychange', () => this.#markSeen());
  }

  #showLogin() {
    this.$('login-view').hidden = false;
    this.$('chat-view').hidden = true;
    this.$('whoami').hidden = true;
    const known = Object.values(this.#knownSessions());
    this.$('known-sessions').hidden = known.length === 0;
    this.$('known-session-list').replaceChildren(...known.map((session) =>
      el('li', {}, el('button', { type: 'button', className: 'secondary', dataset: { userId: session.userId },
        textContent: `Continue as ${session.userId}`, onclick: () => this.#signedIn(session) }))));
    this.$('login-username').focus();
  }

  #signedIn(session) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    this.#remember(session, true);
    this.client = new Client(session);
    const seen = JSON.parse(localStorage.getItem(`${SESSION_KEY}:seen:${session.userId}`) ?? '{}');
    this.rooms = new Rooms(session.userId, seen);
    this.current = localStorage.getItem(`${SESSION_KEY}:room:${session.userId}`);
    this.since = null;
    this.$('login-view').hidden = true;
    this.$('chat-view').hidden = false;
    this.$('whoami').hidden = false;
    this.$('whoami-name').textContent = session.userId;
    this.#render();
    this.#syncLoop();
  }

  async #logout(tellServer) {
    const client = this.client;
    this.client = null;
    this.syncAbort?.abort();
    sessionStorage.removeItem(SESSION_KEY);
    if (client) this.#remember(client.session, false);
    if (tellServer && client) await client.logout().catch(() => {});
    this.#showLogin();
  }

  // ---- sync

  async #syncLoop() {
    const client = this.client;
    let failures = 0;
    while (this.client === client) {
      this.syncAbort = new AbortController();
      try {
        const response = await client.sync({ since: this.since, timeout: this.since ? 30000 : 0,
          signal: this.syncAbort.signal });
        if (this.client !== client) return;
        failures = 0;
        this.#notice('');
        this.since = response.next_batch;
        const { changed } = this.rooms.apply(response);
        this.#reconcilePending();
        if (!this.current || !this.rooms.byId.has(this.current)) this.current = this.rooms.list()[0]?.id ?? null;
        this.#render(changed);
        this.#markSeen();
      } catch (e) {
        if (this.client !== client) return;
        if (e instanceof MatrixError && e.errcode === 'M_UNKNOWN_TOKEN') {
          this.#notice('Your session ended; sign in again.');
          this.#logout(false);
          return;
        }
        failures++;
        this.#notice(`Cannot reach the server (${e.message}); retrying…`);
        await sleep(Math.min(500 * 2 ** failures, 10000));
      }
    }
  }

  #notice(text) {
    const n = this.$('chat-notice');
    n.textContent = text;
    n.hidden = !text;
  }

  // ---- actions

  async #createRoom() {
    const name = this.$('create-room-name').value.trim();
    const alias = this.$('create-room-alias').value.trim().replace(/^#/, '').split(':')[0];
    const isPublic = this.$('create-room-public').checked;
    if (!name && !alias) return;
    try {
      const { room_id: roomId } = await this.client.createRoom({ name: name || alias, alias, isPublic });
      this.$('create-room-form').reset();
      this.#open(roomId);
    } catch (e) {
      this.#notice(`Could not create the room: ${e.message}`);
    }
  }

  async #joinRoom(target) {
    if (!target) return;
    try {
      const { room_id: roomId } = await this.client.join(target);
      this.$('join-room-form').reset();
      this.#open(roomId);
    } catch (e) {
      this.#notice(`Could not join ${target}: ${e.message}`);
    }
  }

  async #leave(roomId) {
    try {
      await this.client.leave(roomId);
      this.rooms.byId.delete(roomId);
      this.current = null;
      this.#render();
    } catch (e) {
      this.#notice(`Could not leave: ${e.message}`);
    }
  }

  async #invite() {
    const input = this.$('invite-input');
    let userId = input.value.trim();
    if (!userId || !this.current) return;
    if (!userId.startsWith('@')) userId = `@${userId}`;
    if (!userId.includes(':')) userId += `:${this.client.userId.split(':').slice(1).join(':')}`;
    try {
      await this.client.invite(this.current, userId);
      input.value = '';
    } catch (e) {
      this.#notice(`Could not invite ${userId}: ${e.message}`);
    }
  }

  async #send() {
    const input = this.$('composer-input');
    const body = input.value.trim();
    const roomId = this.current;
    if (!body || !roomId) return;
    input.value = '';
    this.#stopTyping();
    const txnId = this.client.newTxnId();
    this.pending.set(txnId, { roomId, body, state: 'sending', eventId: null });
    this.#renderTimeline();
    try {
      const { event_id: eventId } = await this.client.sendText(roomId, body, txnId);
      const p = this.pending.get(txnId);
      if (p) {
        p.eventId = eventId;
        p.state = 'sent';
      }
    } catch (e) {
      const p = this.pending.get(txnId);
      if (p) p.state = 'failed';
      this.#notice(`Your message was not sent: ${e.message}`);
    }
    this.#reconcilePending();
    this.#renderTimeline();
  }

  // Local echoes leave once their event arrived through sync.
  #reconcilePending() {
    for (const [txnId, p] of this.pending) {
      const room = this.rooms.byId.get(p.roomId);
      if (!room) continue;
      const arrived = room.timeline.some((e) => e.unsigned?.transaction_id === txnId ||
        (p.eventId && e.event_id === p.eventId));
      if (arrived) this.pending.delete(txnId);
    }
  }

  #typed() {
    if (this.noTyping || !this.current) return;
    const now = Date.now();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS);
    if (now - this.typingSent < 10000) return;
    this.typingSent = now;
    this.client.typing(this.current, true).catch((e) => {
      if (e.status === 404 || e.status === 405) this.noTyping = true;
    });
  }

  #stopTyping() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent || this.noTyping || !this.current) return;
    this.typingSent = 0;
    this.client.typing(this.current, false).catch(() => {});
  }

  // The open room's newest event counts as seen while the page is visible.
  #markSeen() {
    const room = this.current && this.rooms?.byId.get(this.current);
    if (!room || this.doc.visibilityState === 'hidden') return;
    const last = room.lastEventId();
    if (!last || room.seenUpTo === last) return;
    room.seenUpTo = last;
    this.rooms.seen[room.id] = last;
    localStorage.setItem(`${SESSION_KEY}:seen:${this.client.userId}`, JSON.stringify(this.rooms.seen));
    this.#renderRooms();
    if (!this.noReceipts) {
      this.client.readReceipt(room.id, last).catch((e) => {
        if (e.status === 404 || e.status === 405) this.noReceipts = true;
      });
    }
  }

  async #loadOlder() {
    const room = this.rooms.byId.get(this.current);
    if (!room?.prevBatch) return;
    try {
      const page = await this.client.messages(room.id, room.prevBatch);
      const events = (page.chunk ?? []).slice().reverse();
      room.addTimeline(events, { prepend: true });
      room.prevBatch = events.length && page.end ? page.end : null;
      this.#renderTimeline({ keepScroll: true });
    } catch (e) {
      this.#notice(`Could not load older messages: ${e.message}`);
    }
  }

  #open(roomId) {
    if (this.current !== roomId) this.#stopTyping();
    this.current = roomId;
    localStorage.setItem(`${SESSION_KEY}:room:${this.client.userId}`, roomId);
    this.#render();
    this.#markSeen();
    this.$('composer-input').focus();
  }

  // ---- drawing

  #render(changed = null) {
    this.#renderRooms();
    if (!changed || changed.has(this.current)) this.#renderRoom();
  }

  #renderRooms() {
    const list = this.$('room-list');
    const me = this.client?.userId;
    list.replaceChildren(...this.rooms.list().map((room) => {
      const unread = room.id === this.current ? 0 : room.unread(me);
      return el('li', { dataset: { roomId: room.id }, className: room.id === this.current ? 'active' : '' },
        el('button', { type: 'button', onclick: () => this.#open(room.id) },
          el('span', { className: 'room-name', textContent: room.name(me) }),
          room.membership === 'invite' ? el('span', { className: 'tag', textContent: 'invited' }) : null,
          unread ? el('span', { className: 'unread', textContent: String(unread),
            title: `${unread} unread` }) : null));
    }));
    this.$('no-rooms').hidden = this.rooms.byId.size > 0;
  }

  #renderRoom() {
    const room = this.current && this.rooms.byId.get(this.current);
    this.$('room-pane').hidden = !room;
    this.$('members-pane').hidden = !room || room.membership !== 'join';
    if (!room) return;
    const me = this.client.userId;
    this.$('room-name').textContent = room.name(me);
    const alias = room.getState('m.room.canonical_alias')?.alias;
    this.$('room-id').textContent = alias ? `${alias} · ${room.id}` : room.id;
    const topic = room.getState('m.room.topic')?.topic;
    this.$('room-topic').textContent = typeof topic === 'string' ? topic : '';
    const invited = room.membership === 'invite';
    this.$('invite-banner').hidden = !invited;
    this.$('composer').hidden = invited;
    if (invited) {
      const inviter = room.inviteState.find((e) => e.type === 'm.room.member' && e.state_key === me)?.sender;
      this.$('invite-text').textContent = `${inviter ? room.displayName(inviter) : 'Someone'} invited you to this room.`;
    }
    this.#renderTimeline();
    this.#renderMembers(room);
    const typing = room.typing.map((u) => room.displayName(u));
    this.$('typing').textContent = typing.length === 0 ? ''
      : typing.length === 1 ? `${typing[0]} is typing…` : `${typing.join(', ')} are typing…`;
  }

  #renderMembers(room) {
    const me = this.client.userId;
    this.$('member-list').replaceChildren(...room.members().map((m) =>
      el('li', { dataset: { userId: m.userId }, title: m.userId },
        el('span', { className: 'avatar', textContent: m.name.slice(0, 1).toUpperCase() }),
        el('span', { className: 'member-name', textContent: m.userId === me ? `${m.name} (you)` : m.name }),
        m.membership === 'invite' ? el('span', { className: 'tag', textContent: 'invited' }) : null)));
  }

  #describe(room, e) {
    const who = room.displayName(e.sender);
    const c = e.content ?? {};
    switch (e.type) {
    case 'm.room.create': return `${who} created the room`;
    case 'm.room.name': return c.name ? `${who} named the room “${c.name}”` : `${who} removed the room name`;
    case 'm.room.topic': return `${who} set the topic: ${c.topic ?? ''}`;
    case 'm.room.member': {
      const target = c.displayname || localpart(e.state_key);
      const before = e.unsigned?.prev_content?.membership;
      if (c.membership === 'join') return before === 'join' ? `${who} changed their profile` : `${target} joined`;
      if (c.membership === 'invite') return `${who} invited ${target}`;
      if (c.membership === 'leave') return e.sender === e.state_key ? `${target} left` : `${who} removed ${target}`;
      if (c.membership === 'ban') return `${who} banned ${target}`;
      return null;
    }
    default: return null;
    }
  }

  #renderTimeline({ keepScroll = false } = {}) {
    const room = this.current && this.rooms.byId.get(this.current);
    if (!room) return;
    const box = this.$('timeline');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const oldHeight = box.scrollHeight;
    const items = [];
    let lastDay = null;
    let last = null;
    for (const e of room.timeline) {
      const ts = e.origin_server_ts ?? 0;
      const day = dayOf(ts);
      if (day !== lastDay) {
        items.push(el('li', { className: 'day', textContent: day }));
        lastDay = day;
        last = null;
      }
      if (e.type === 'm.room.message') {
        const grouped = last && last.sender === e.sender && ts - last.ts < GROUP_GAP_MS;
        const body = e.content?.body;
        if (typeof body !== 'string') continue; // redacted
        items.push(el('li', { className: `message${grouped ? ' grouped' : ''}${e.sender === this.client.userId ? ' mine' : ''}`,
          dataset: { eventId: e.event_id, sender: e.sender } },
          grouped ? null : el('div', { className: 'meta' },
            el('span', { className: 'sender', textContent: room.displayName(e.sender), title: e.sender }),
            el('time', { className: 'time', textContent: timeOf(ts), dateTime: new Date(ts).toISOString(),
              title: new Date(ts).toLocaleString() })),
          el('div', { className: 'body', textContent: body })));
        last = { sender: e.sender, ts };
      } else {
        const text = this.#describe(room, e);
        if (!text) continue;
        items.push(el('li', { className: 'notice', dataset: { eventId: e.event_id } },
          text, el('time', { className: 'time', textContent: timeOf(ts) })));
        last = null;
      }
    }
    for (const [txnId, p] of this.pending) {
      if (p.roomId !== room.id) continue;
      items.push(el('li', { className: `message mine pending ${p.state}`, dataset: { txnId } },
        el('div', { className: 'body', textContent: p.body }),
        el('div', { className: 'state', textContent: p.state === 'failed' ? 'not sent' : 'sending…' })));
    }
    this.$('events').replaceChildren(...items);
    this.$('load-older').hidden = !room.prevBatch || room.timeline[0]?.type === 'm.room.create';
    const newRoom = this.drawnRoom !== room.id;
    this.drawnRoom = room.id;
    if (keepScroll) box.scrollTop = box.scrollHeight - oldHeight;
    else if (newRoom || atBottom || this.pending.size) box.scrollTop = box.scrollHeight;
  }
}
