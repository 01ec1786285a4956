// rooms.js -- what the demo knows about rooms, built from /sync responses.
//
// One Room per room the user is in or invited to: its current state (names,
// members), the timeline seen so far, who is typing, and how far the user
// has read. Nothing here talks to the network.

const stateKey = (type, key) => `${type}\u0000${key}`;

export class Room {
  constructor(id) {
    this.id = id;
    this.membership = 'join';
    this.state = new Map();   // "type\0state_key" -> event
    this.timeline = [];       // events, oldest first
    this.eventIds = new Set();
    this.prevBatch = null;    // token for older messages
    this.typing = [];         // user ids
    this.serverUnread = 0;    // unread_notifications.notification_count
    this.seenUpTo = null;     // event id the user last saw
    this.inviteState = [];
  }

  getState(type, key = '') {
    return this.state.get(stateKey(type, key))?.content;
  }

  setState(event) {
    if (event.state_key !== undefined) this.state.set(stateKey(event.type, event.state_key), event);
  }

  addTimeline(events, { prepend = false } = {}) {
    const fresh = events.filter((e) => e.event_id && !this.eventIds.has(e.event_id));
    for (const e of fresh) {
      this.eventIds.add(e.event_id);
      if (!prepend) this.setState(e);
    }
    this.timeline = prepend ? [...fresh, ...this.timeline] : [...this.timeline, ...fresh];
    return fresh;
  }

  member(userId) {
    return this.getState('m.room.member', userId);
  }

  displayName(userId) {
    const name = this.member(userId)?.displayname;
    return typeof name === 'string' && name ? name : userId.replace(/^@/, '').split(':')[0];
  }

  members() {
    const out = [];
    for (const event of this.state.values()) {
      if (event.type !== 'm.room.member') continue;
      const membership = event.content?.membership;
      if (membership === 'join' || membership === 'invite') {
        out.push({ userId: event.state_key, membership, name: this.displayName(event.state_key) });
      }
    }
    return out.sort((a, b) => (a.membership === b.membership ? a.name.localeCompare(b.name)
      : a.membership === 'join' ? -1 : 1));
  }

  name(me) {
    const named = this.getState('m.room.name')?.name;
    if (typeof named === 'string' && named.trim()) return named;
    const alias = this.getState('m.room.canonical_alias')?.alias;
    if (alias) return alias;
    if (this.membership === 'invite') {
      const n = this.inviteState.find((e) => e.type === 'm.room.name')?.content?.name;
      if (n) return n;
    }
    const others = this.members().filter((m) => m.userId !== me).map((m) => m.name);
    return others.length ? others.join(', ') : 'Empty room';
  }

  lastActivity() {
    const last = this.timeline[this.timeline.length - 1];
    return last?.origin_server_ts ?? 0;
  }

  // Messages from others after the last one the user saw.
  unread(me) {
    const messages = (e) => e.type === 'm.room.message' && e.sender !== me;
    if (!this.seenUpTo) return this.serverUnread || this.timeline.filter(messages).length;
    const at = this.timeline.findIndex((e) => e.event_id === this.seenUpTo);
    if (at < 0) return this.serverUnread;
    return this.timeline.slice(at + 1).filter(messages).length;
  }

  lastEventId() {
    return this.timeline[this.timeline.length - 1]?.event_id ?? null;
  }
}

export class Rooms {
  constructor(me, seen = {}) {
    this.me = me;
    this.byId = new Map();
    this.seen = seen; // roomId -> event id, kept by the caller across reloads
  }

  get(id) {
    let room = this.byId.get(id);
    if (!room) {
      room = new Room(id);
      room.seenUpTo = this.seen[id] ?? null;
      this.byId.set(id, room);
    }
    return room;
  }

  // Applies one sync response; returns { changed: Set of room ids, fresh:
  // new timeline events by room }.
  apply(sync) {
    const changed = new Set();
    const fresh = new Map();
    const rooms = sync.rooms ?? {};
    for (const [id, data] of Object.entries(rooms.join ?? {})) {
      const room = this.get(id);
      room.membership = 'join';
      for (const e of data.state?.events ?? []) room.setState(e);
      const timeline = data.timeline ?? {};
      if (timeline.limited) {
        room.timeline = [];
        room.eventIds.clear();
      }
      if (timeline.prev_batch && (timeline.limited || !room.prevBatch)) room.prevBatch = timeline.prev_batch;
      fresh.set(id, room.addTimeline(timeline.events ?? []));
      for (const e of data.ephemeral?.events ?? []) {
        if (e.type === 'm.typing') room.typing = (e.content?.user_ids ?? []).filter((u) => u !== this.me);
        if (e.type === 'm.receipt') this.#applyReceipt(room, e.content ?? {});
      }
      if (data.unread_notifications) room.serverUnread = data.unread_notifications.notification_count ?? 0;
      changed.add(id);
    }
    for (const [id, data] of Object.entries(rooms.invite ?? {})) {
      const room = this.get(id);
      room.membership = 'invite';
      room.inviteState = data.invite_state?.events ?? [];
      for (const e of room.inviteState) room.setState(e);
      changed.add(id);
    }
    for (const id of Object.keys(rooms.leave ?? {})) {
      this.byId.delete(id);
      changed.add(id);
    }
    return { changed, fresh };
  }

  #applyReceipt(room, content) {
    for (const [eventId, types] of Object.entries(content)) {
      if (types?.['m.read']?.[this.me] && room.eventIds.has(eventId)) {
        const at = (id) => room.timeline.findIndex((e) => e.event_id === id);
        if (!room.seenUpTo || at(eventId) > at(room.seenUpTo)) room.seenUpTo = eventId;
      }
    }
  }

  list() {
    return [...this.byId.values()].sort((a, b) => {
      if (a.membership !== b.membership) return a.membership === 'invite' ? -1 : 1;
      return b.lastActivity() - a.lastActivity();
    });
  }
}
