// chat.js -- the demo's chat client: signing in, the sync loop, the room
// list, the open room's header and members, and what a user does to rooms
// (create, join, leave, invite, direct messages, reactions, deletions).
//
// It knows people and rooms and speaks only the Matrix client-server API
// through matrix.js, to the in-browser server (the page's own origin) or to
// a server on the network (a base URL), the same calls either way. Each tab
// keeps its own session in sessionStorage, so two tabs can be two people;
// the sessions of this browser are remembered in localStorage, and a new tab
// offers to continue as one of them. Every action reports its failure next
// to where the user acted (the form, the composer, the dialog).

import { Composer } from './composer.js';
import { Dialogs } from './dialogs.js';
import { Client, MatrixError, login, register, serverOf } from './matrix.js';
import { MediaCache } from './media.js';
import { notifyMentions } from './notify.js';
import { Rooms } from './rooms.js';
import { TimelineView, el } from './timeline.js';

const SESSION_KEY = 'hometab-demo-session';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function say(node, text) {
  node.textContent = text;
}

// What a person typed into "join": a room id, a full alias, or a bare
// "#alias" (or "alias") meaning an alias on the user's own server; or a link
// to a room (https://matrix.to/#/!id:server?via=server, as "Copy link" makes
// it), kept with its ?via= servers for the join to go through.
export function roomTarget(text, myServer) {
  let t = text.trim();
  if (!t) return '';
  const link = t.match(/^https?:\/\/matrix\.to\/#\/(.+)$/);
  if (link) t = decodeURIComponent(link[1].split('?')[0]) + (link[1].includes('?') ? `?${link[1].split('?')[1]}` : '');
  if (t.startsWith('!')) return t;
  const alias = t.startsWith('#') ? t : `#${t}`;
  return alias.includes(':') ? alias : `${alias}:${myServer}`;
}

// "bob", "@bob" or "@bob:server" -> a full user id on my server by default.
export function userTarget(text, myServer) {
  let id = text.trim();
  if (!id) return '';
  if (!id.startsWith('@')) id = `@${id}`;
  return id.includes(':') ? id : `${id}:${myServer}`;
}

export class ChatApp {
  // serverName: the in-browser server's name (its key in p2p mode).
  constructor(doc, { serverName = location.host } = {}) {
    this.doc = doc;
    this.serverName = serverName;
    this.$ = (id) => doc.getElementById(id);
    this.client = null;
    this.rooms = null;
    this.media = null;
    this.currentId = null;
    this.since = null;
    this.syncAbort = null;
    this.noReceipts = false;
    this.composer = new Composer(doc, this);
    this.timeline = new TimelineView(doc, this);
    this.dialogs = new Dialogs(doc, this);
    this.#wire();
  }

  get me() {
    return this.client?.userId;
  }

  current() {
    return this.currentId;
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
    const key = `${session.baseUrl ?? ''} ${session.userId}`;
    if (keep) known[key] = session;
    else delete known[key];
    localStorage.setItem(`${SESSION_KEY}s`, JSON.stringify(known));
  }

  // ---- signing in and out

  #serverBase() {
    if (!this.$('server-remote').checked) return '';
    const url = this.$('server-url').value.trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+$/.test(url)) throw new Error('Give the server as http://host:port or https://host.');
    if (url === location.origin) {
      throw new Error(`${url} is this page's own address, which the in-browser server answers here. ` +
        `Reach the native server under another name for the same machine, e.g. ${url.replace('127.0.0.1', 'localhost')}.`);
    }
    return url;
  }

  #wire() {
    const form = this.$('login-form');
    this.$('browser-server-name').textContent = this.serverName;
    for (const radio of form.querySelectorAll('input[name=server]')) {
      radio.addEventListener('change', () => { this.$('server-url').disabled = !this.$('server-remote').checked; });
    }
    const submit = async (kind) => {
      const username = this.$('login-username').value.trim();
      const password = this.$('login-password').value;
      const message = this.$('login-message');
      if (!username || !password) {
        say(message, 'Choose a user name and a password.');
        return;
      }
      form.classList.add('busy');
      try {
        const base = this.#serverBase();
        say(message, kind === 'register' ? 'Creating your account…' : 'Signing in…');
        const session = kind === 'register' ? await register(base, username, password) : await login(base, username, password);
        say(message, '');
        this.#signedIn(session);
      } catch (e) {
        say(message, e.errcode === 'M_FORBIDDEN' && kind === 'login' && !this.$('server-remote').checked
          ? `${e.message} Accounts of the in-browser server live in this browser only; ` +
            'one made with curl or another client at this address is on the native server (choose it above).'
          : e.message);
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
    this.$('join-room-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const message = this.$('join-room-message');
      const target = roomTarget(this.$('join-room-input').value, serverOf(this.me));
      if (!target) return say(message, 'Give a room alias such as #garden, or a room id.');
      if (await this.joinRoom(target, message)) this.$('join-room-form').reset();
    });
    this.$('dm-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#directMessage();
    });
    this.$('invite-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#invite();
    });
    this.$('load-older').addEventListener('click', () => this.#loadOlder());
    this.$('accept-invite').addEventListener('click', () => this.joinRoom(this.currentId, this.$('chat-notice')));
    this.$('decline-invite').addEventListener('click', () => this.#leave(this.currentId));
    this.$('copy-link-button').addEventListener('click', async () => {
      const button = this.$('copy-link-button');
      const link = button.dataset.link;
      try {
        await navigator.clipboard.writeText(link);
        button.textContent = 'Copied';
      } catch {
        prompt('Copy this link to the room:', link); // no clipboard here (http, or refused)
      }
      setTimeout(() => { button.textContent = 'Copy link'; }, 2000);
    });
    this.$('leave-button').addEventListener('click', () => {
      const room = this.rooms.byId.get(this.currentId);
      if (room && confirm(`Leave “${room.name(this.me)}”?`)) this.#leave(room.id);
    });
    const showMembers = (open) => {
      this.$('chat-view').classList.toggle('show-members', open);
      this.$('members-toggle').setAttribute('aria-expanded', String(open));
    };
    this.$('members-toggle').addEventListener('click',
      () => showMembers(!this.$('chat-view').classList.contains('show-members')));
    this.$('members-close').addEventListener('click', () => showMembers(false));
    this.$('rooms-back').addEventListener('click', () => this.$('chat-view').classList.remove('room-open'));
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
        textContent: `Continue as ${session.userId}${session.baseUrl ? ` on ${session.baseUrl}` : ''}`,
        onclick: () => this.#signedIn(session) }))));
    this.$('login-username').focus();
  }

  #signedIn(session) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    this.#remember(session, true);
    this.client = new Client(session);
    this.media?.close();
    this.media = new MediaCache(this.client);
    const seen = JSON.parse(localStorage.getItem(`${SESSION_KEY}:seen:${session.userId}`) ?? '{}');
    this.rooms = new Rooms(session.userId, seen);
    this.currentId = localStorage.getItem(`${SESSION_KEY}:room:${session.userId}`);
    this.since = null;
    this.presenceAsked = new Set();
    this.$('login-view').hidden = true;
    this.$('chat-view').hidden = false;
    this.$('whoami').hidden = false;
    this.$('whoami-name').textContent = session.userId;
    this.$('whoami-server').textContent = session.baseUrl ? `server: ${session.baseUrl}` : 'server: in this browser';
    this.$('whoami-server').dataset.server = session.baseUrl ? 'remote' : 'browser';
    this.profileChanged();
    this.#render();
    this.#syncLoop();
  }

  async profileChanged() {
    const avatar = this.$('whoami-avatar');
    avatar.textContent = this.me.replace(/^@/, '').slice(0, 1).toUpperCase();
    try {
      const profile = await this.client.profile(this.me);
      this.myName = profile.displayname;
      if (profile.avatar_url) this.#avatarInto(avatar, profile.avatar_url);
    } catch { /* the initial stays */ }
  }

  #avatarInto(node, mxc) {
    if (typeof mxc !== 'string' || !mxc.startsWith('mxc://')) return;
    this.media.image(mxc, { width: 96, height: 96 }).then((url) => {
      node.replaceChildren(el('img', { src: url, alt: '' }));
    }, () => {});
  }

  async #logout(tellServer) {
    const client = this.client;
    this.client = null;
    this.syncAbort?.abort();
    this.composer.stopTyping();
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
        if (failures) this.doc.dispatchEvent(new CustomEvent('hometab-connection', { detail: { online: true } }));
        failures = 0;
        this.#notice('');
        const first = this.since === null;
        this.since = response.next_batch;
        const { changed, fresh } = this.rooms.apply(response);
        this.composer.reconcile();
        if (!this.currentId || !this.rooms.byId.has(this.currentId)) this.currentId = this.rooms.list()[0]?.id ?? null;
        this.#render(changed);
        this.#markSeen();
        if (!first) this.#notify(fresh);
      } catch (e) {
        if (this.client !== client) return;
        if (e instanceof MatrixError && e.errcode === 'M_UNKNOWN_TOKEN') {
          this.#logout(false);
          say(this.$('login-message'), 'Your session ended; sign in again.');
          return;
        }
        failures++;
        this.doc.dispatchEvent(new CustomEvent('hometab-connection', { detail: { online: false, error: e.message } }));
        this.#notice(`Cannot reach the server (${e.message}); retrying…`);
        await sleep(Math.min(500 * 2 ** failures, 10000));
      }
    }
  }

  #notify(fresh) {
    for (const [roomId, events] of fresh) {
      const room = this.rooms.byId.get(roomId);
      if (!room || !events.length) continue;
      notifyMentions(events, { me: this.me, myName: this.myName, roomName: room.name(this.me),
        senderName: (u) => room.displayName(u), onOpen: () => this.#open(roomId) });
    }
  }

  #notice(text) {
    const n = this.$('chat-notice');
    n.textContent = text;
    n.hidden = !text;
  }

  // ---- actions on rooms

  async #createRoom() {
    const message = this.$('create-room-message');
    const name = this.$('create-room-name').value.trim();
    const alias = this.$('create-room-alias').value.trim().replace(/^#/, '').split(':')[0];
    const isPublic = this.$('create-room-public').checked;
    if (!name && !alias) return say(message, 'Give the room a name or an alias.');
    say(message, '');
    try {
      const { room_id: roomId } = await this.client.createRoom({ name: name || alias, alias, isPublic });
      this.$('create-room-form').reset();
      this.#open(roomId);
    } catch (e) {
      say(message, `Could not create the room: ${e.message}`);
    }
  }

  // Joins and opens a room; a failure is said in `where`. Resolves true on success.
  async joinRoom(target, where) {
    if (!target) return false;
    say(where, '');
    if (where === this.$('chat-notice')) where.hidden = true;
    try {
      const [idOrAlias, query = ''] = target.split('?');
      const { room_id: roomId } = await this.client.join(idOrAlias, new URLSearchParams(query).getAll('via'));
      this.#open(roomId);
      return true;
    } catch (e) {
      say(where, `Could not join ${target}: ${e.message}`);
      if (where === this.$('chat-notice')) where.hidden = false;
      return false;
    }
  }

  async #leave(roomId) {
    try {
      await this.client.leave(roomId);
      this.rooms.byId.delete(roomId);
      this.currentId = null;
      this.$('chat-view').classList.remove('room-open');
      this.#render();
    } catch (e) {
      this.#notice(`Could not leave: ${e.message}`);
    }
  }

  async #invite() {
    const message = this.$('invite-message');
    const input = this.$('invite-input');
    const userId = userTarget(input.value, serverOf(this.me));
    if (!userId || !this.currentId) return;
    say(message, '');
    try {
      await this.client.invite(this.currentId, userId);
      input.value = '';
    } catch (e) {
      say(message, `Could not invite ${userId}: ${e.message}`);
    }
  }

  // Opens the direct chat with someone, creating it (and recording it in
  // m.direct, as other clients do) when there is none.
  async #directMessage() {
    const message = this.$('dm-message');
    const userId = userTarget(this.$('dm-input').value, serverOf(this.me));
    if (!userId) return say(message, 'Give the person’s user name or id.');
    if (userId === this.me) return say(message, 'That is you.');
    say(message, '');
    const existing = this.rooms.directWith(userId);
    if (existing) {
      this.$('dm-form').reset();
      return this.#open(existing.id);
    }
    try {
      await this.client.profile(userId).catch((e) => {
        if (e.status === 404) throw new Error(`there is no ${userId} on this server`);
      });
      const { room_id: roomId } = await this.client.createRoom({ invite: [userId], isDirect: true });
      const direct = { ...this.rooms.direct, [userId]: [...(this.rooms.direct[userId] ?? []), roomId] };
      this.rooms.direct = direct;
      await this.client.setAccountData('m.direct', direct);
      this.$('dm-form').reset();
      this.#open(roomId);
    } catch (e) {
      say(message, `Could not start a conversation with ${userId}: ${e.message}`);
    }
  }

  // A button in a message (timeline.js): reply, edit, delete, react...
  async onAction(action, eventId, data) {
    const room = this.rooms.byId.get(this.currentId);
    if (!room) return;
    try {
      switch (action) {
      case 'reply': return this.composer.replyTo(room, eventId);
      case 'edit': return this.composer.edit(room, eventId);
      case 'delete':
        if (confirm('Delete this message for everyone?')) await this.client.redact(room.id, eventId);
        return;
      case 'react':
      case 'toggle-reaction': {
        const mine = room.reactions.get(eventId)?.get(data.key)?.get(this.me);
        if (mine) await this.client.redact(room.id, mine);
        else await this.client.send(room.id, 'm.reaction',
          { 'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key: data.key } });
        return;
      }
      case 'download': {
        const content = room.contentOf(room.event(eventId));
        if (content?.url) await this.media.download(content.url, content.body);
        return;
      }
      default:
      }
    } catch (e) {
      this.composer.say(`Could not ${action.replace('-', ' ')}: ${e.message}`);
    }
  }

  // The open room's newest event counts as seen while the page is visible.
  #markSeen() {
    const room = this.currentId && this.rooms?.byId.get(this.currentId);
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
    const room = this.rooms.byId.get(this.currentId);
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
    if (this.currentId !== roomId) {
      this.composer.stopTyping();
      this.composer.cancel();
    }
    this.currentId = roomId;
    localStorage.setItem(`${SESSION_KEY}:room:${this.client.userId}`, roomId);
    this.$('chat-view').classList.add('room-open');
    this.#render();
    this.#markSeen();
    this.$('composer-input').focus();
  }

  // ---- drawing

  redraw() {
    this.#renderTimeline();
  }

  #render(changed = null) {
    this.#renderRooms();
    if (!changed || changed.has(this.currentId)) this.#renderRoom();
  }

  #renderRooms() {
    const list = this.$('room-list');
    const me = this.me;
    list.replaceChildren(...this.rooms.list().map((room) => {
      const unread = room.id === this.currentId ? 0 : room.unread(me);
      const direct = this.rooms.isDirect(room);
      return el('li', { dataset: { roomId: room.id }, className: room.id === this.currentId ? 'active' : '' },
        el('button', { type: 'button', onclick: () => this.#open(room.id) },
          el('span', { className: 'room-name', textContent: room.name(me) }),
          direct ? el('span', { className: 'tag direct', textContent: 'direct' }) : null,
          room.membership === 'invite' ? el('span', { className: 'tag', textContent: 'invited' }) : null,
          unread ? el('span', { className: 'unread', textContent: String(unread),
            title: `${unread} unread` }) : null));
    }));
    this.$('no-rooms').hidden = this.rooms.byId.size > 0;
  }

  #renderRoom() {
    const room = this.currentId && this.rooms.byId.get(this.currentId);
    this.$('room-pane').hidden = !room;
    this.$('members-pane').hidden = !room || room.membership !== 'join';
    this.$('chat-view').classList.toggle('no-room', !room);
    if (!room) return;
    const me = this.me;
    this.$('room-name').textContent = room.name(me);
    const alias = room.getState('m.room.canonical_alias')?.alias;
    this.$('room-id').textContent = alias ? `${alias} · ${room.id}` : room.id;
    const topic = room.getState('m.room.topic')?.topic;
    this.$('room-topic').textContent = typeof topic === 'string' ? topic : '';
    const avatar = this.$('room-avatar');
    avatar.replaceChildren(room.name(me).slice(0, 1).toUpperCase());
    this.#avatarInto(avatar, room.getState('m.room.avatar')?.url);
    const invited = room.membership === 'invite';
    this.$('invite-banner').hidden = !invited;
    this.$('composer-box').hidden = invited;
    this.$('settings-button').hidden = invited;
    this.$('leave-button').hidden = invited;
    // A link another server can join by: this server is in the room.
    this.$('copy-link-button').dataset.link = `https://matrix.to/#/${encodeURIComponent(room.id)}?via=${encodeURIComponent(serverOf(me))}`;
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

  #renderTimeline(options) {
    const room = this.currentId && this.rooms.byId.get(this.currentId);
    if (!room) return;
    this.timeline.render(room, this.composer.pending, options);
    this.$('load-older').hidden = !room.prevBatch || room.timeline[0]?.type === 'm.room.create';
  }

  // Presence arrives in /sync only when it changes, so people met in a room
  // after their last change are asked about once.
  #askPresence(userId) {
    this.presenceAsked ??= new Set();
    if (this.rooms.presence.has(userId) || this.presenceAsked.has(userId)) return;
    this.presenceAsked.add(userId);
    const client = this.client;
    client.presence(userId).then((status) => {
      if (this.client !== client || this.rooms.presence.has(userId)) return;
      this.rooms.presence.set(userId, status);
      const room = this.rooms.byId.get(this.currentId);
      if (room) this.#renderMembers(room);
    }, () => {});
  }

  #renderMembers(room) {
    const me = this.me;
    // (Only joined members: presence is shared with people one shares a room with.)
    for (const m of room.members()) if (m.membership === 'join') this.#askPresence(m.userId);
    this.$('member-list').replaceChildren(...room.members().map((m) => {
      const presence = this.rooms.presence.get(m.userId)?.presence ?? 'unknown';
      const avatar = el('span', { className: 'avatar', textContent: m.name.slice(0, 1).toUpperCase() });
      if (m.avatarUrl) this.#avatarInto(avatar, m.avatarUrl);
      return el('li', { dataset: { userId: m.userId, presence }, title: `${m.userId} · ${presence}` },
        el('span', { className: 'avatar-wrap' }, avatar,
          el('span', { className: `presence ${presence}`, ariaLabel: presence })),
        el('span', { className: 'member-name', textContent: m.userId === me ? `${m.name} (you)` : m.name }),
        m.membership === 'invite' ? el('span', { className: 'tag', textContent: 'invited' }) : null);
    }));
  }
}
