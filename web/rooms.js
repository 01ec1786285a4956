// rooms.js -- what the demo knows about rooms, built from /sync responses.
//
// One Room per room the user is in or invited to: its current state (names,
// members), the timeline seen so far, who is typing, who read how far, and
// the relations between its events (reactions, edits, redactions), gathered
// from the events the client has seen rather than from server aggregations,
// so that one code path serves both the live timeline and older pages.
// Nothing here talks to the network.

const stateKey = (type, key) => `${type}\u0000${key}`;

export function localpart(userId) {
  return userId.replace(/^@/, '').split(':')[0];
}

// The target of a redaction: top-level `redacts` up to room version 10,
// content.redacts from version 11.
function redactedBy(event) {
  return event.redacts ?? event.content?.redacts;
}

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
    this.receipts = new Map();  // user id -> event id of their m.read receipt
    this.reactions = new Map(); // event id -> Map key -> Map sender -> reaction event id
    this.edits = new Map();     // event id -> the newest m.replace event from its sender
    this.redacted = new Set();  // event ids redacted
  }

  getState(type, key = '') {
    return this.state.get(stateKey(type, key))?.content;
  }

  setState(event) {
    if (event.state_key !== undefined) this.state.set(stateKey(event.type, event.state_key), event);
  }

  event(id) {
    return this.timeline.find((e) => e.event_id === id);
  }

  addTimeline(events, { prepend = false } = {}) {
    const fresh = events.filter((e) => e.event_id && !this.eventIds.has(e.event_id));
    for (const e of fresh) {
      this.eventIds.add(e.event_id);
      if (!prepend) this.setState(e);
    }
    this.timeline = prepend ? [...fresh, ...this.timeline] : [...this.timeline, ...fresh];
    for (const e of fresh) this.#relate(e);
    return fresh;
  }

  // Files reactions, edits and redactions under the events they concern.
  #relate(e) {
    if (e.unsigned?.redacted_because) this.redacted.add(e.event_id);
    if (e.type === 'm.room.redaction') {
      const target = redactedBy(e);
      if (target) this.#forget(target);
      return;
    }
    if (this.redacted.has(e.event_id)) return;
    const rel = e.content?.['m.relates_to'];
    if (!rel?.event_id) return;
    if (e.type === 'm.reaction' && rel.rel_type === 'm.annotation' && typeof rel.key === 'string') {
      const keys = this.reactions.get(rel.event_id) ?? new Map();
      const senders = keys.get(rel.key) ?? new Map();
      senders.set(e.sender, e.event_id);
      keys.set(rel.key, senders);
      this.reactions.set(rel.event_id, keys);
    } else if (e.type === 'm.room.message' && rel.rel_type === 'm.replace' && e.content['m.new_content']) {
      const original = this.event(rel.event_id);
      if (original && original.sender !== e.sender) return; // only the sender may edit
      const known = this.edits.get(rel.event_id);
      if (!known || (known.origin_server_ts ?? 0) <= (e.origin_server_ts ?? 0)) this.edits.set(rel.event_id, e);
    }
  }

  #forget(id) {
    this.redacted.add(id);
    const e = this.event(id);
    if (e) e.content = {};
    for (const keys of this.reactions.values()) {
      for (const [key, senders] of keys) {
        for (const [sender, reactionId] of senders) if (reactionId === id) senders.delete(sender);
        if (senders.size === 0) keys.delete(key);
      }
    }
    for (const [target, edit] of this.edits) if (edit.event_id === id) this.edits.delete(target);
  }

  // What a message says now: its newest edit's m.new_content, else its own.
  contentOf(e) {
    if (this.redacted.has(e.event_id)) return null;
    return this.edits.get(e.event_id)?.content['m.new_content'] ?? e.content;
  }

  member(userId) {
    return this.getState('m.room.member', userId);
  }

  displayName(userId) {
    const name = this.member(userId)?.displayname;
    return typeof name === 'string' && name ? name : localpart(userId);
  }

  members() {
    const out = [];
    for (const event of this.state.values()) {
      if (event.type !== 'm.room.member') continue;
      const membership = event.content?.membership;
      if (membership === 'join' || membership === 'invite') {
        out.push({ userId: event.state_key, membership, name: this.displayName(event.state_key),
          avatarUrl: event.content?.avatar_url });
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
      // A room without a name, such as a direct chat: named after who invited.
      const inviter = this.inviteState.find((e) => e.type === 'm.room.member' && e.state_key === me)?.sender;
      if (inviter && inviter !== me) return this.displayName(inviter);
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
    const messages = (e) => e.type === 'm.room.message' && e.sender !== me &&
      e.content?.['m.relates_to']?.rel_type !== 'm.replace';
    if (!this.seenUpTo) return this.serverUnread || this.timeline.filter(messages).length;
    const at = this.timeline.findIndex((e) => e.event_id === this.seenUpTo);
    if (at < 0) return this.serverUnread;
    return this.timeline.slice(at + 1).filter(messages).length;
  }

  lastEventId() {
    return this.timeline[this.timeline.length - 1]?.event_id ?? null;
  }

  // Who has read up to exactly this event (their newest receipt), but me.
  readersAt(eventId, me) {
    const out = [];
    for (const [user, id] of this.receipts) if (id === eventId && user !== me) out.push(user);
    return out;
  }
}

export class Rooms {
  constructor(me, seen = {}) {
    this.me = me;
    this.byId = new Map();
    this.seen = seen;            // roomId -> event id, kept by the caller across reloads
    this.presence = new Map();   // user id -> m.presence content
    this.direct = {};            // m.direct: user id -> [room ids]
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
    for (const e of sync.presence?.events ?? []) {
      if (e.type === 'm.presence' && e.sender) this.presence.set(e.sender, e.content ?? {});
    }
    for (const e of sync.account_data?.events ?? []) {
      if (e.type === 'm.direct' && e.content && typeof e.content === 'object') this.direct = e.content;
    }
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
    const at = (id) => room.timeline.findIndex((e) => e.event_id === id);
    for (const [eventId, types] of Object.entries(content)) {
      for (const user of Object.keys(types?.['m.read'] ?? {})) {
        const before = room.receipts.get(user);
        if (!before || at(eventId) >= at(before)) room.receipts.set(user, eventId);
        if (user === this.me && room.eventIds.has(eventId) &&
            (!room.seenUpTo || at(eventId) > at(room.seenUpTo))) room.seenUpTo = eventId;
      }
    }
  }

  // A direct chat: named in m.direct, or joined through an is_direct invite.
  isDirect(room) {
    if (Object.values(this.direct).some((ids) => Array.isArray(ids) && ids.includes(room.id))) return true;
    return room.member(this.me)?.is_direct === true ||
      room.inviteState.some((e) => e.type === 'm.room.member' && e.state_key === this.me && e.content?.is_direct);
  }

  // The existing direct chat with a user, if any.
  directWith(userId) {
    for (const id of this.direct[userId] ?? []) {
      const room = this.byId.get(id);
      if (room && room.membership === 'join') return room;
    }
    return null;
  }

  list() {
    return [...this.byId.values()].sort((a, b) => {
      if (a.membership !== b.membership) return a.membership === 'invite' ? -1 : 1;
      return b.lastActivity() - a.lastActivity();
    });
  }
}
