// timeline.js -- drawing the open room's timeline: messages (text,
// formatted, images, files), replies, reactions, edits, deletions, read
// receipts and room events in words, plus each message's actions.
//
// The list is redrawn whole from the Room model on every change (a room
// shows at most a few hundred events; this keeps one code path and no
// stale nodes). Actions are found by event delegation: each button carries
// data-action and sits inside the message's <li data-event-id>.

import { linkified, sanitizedFragment, stripReplyFallback } from './format.js';
import { localpart } from './rooms.js';

const GROUP_GAP_MS = 5 * 60 * 1000;
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '🙏'];

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'ariaLabel') node.setAttribute('aria-label', v);
    else if (v !== undefined && v !== null && v !== false) node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

function timeOf(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function dayOf(ts) {
  return new Date(ts).toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });
}

export function sizeText(n) {
  if (typeof n !== 'number') return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// A room event other than a message, in words (null: not shown).
function describe(room, e) {
  const who = room.displayName(e.sender);
  const c = e.content ?? {};
  switch (e.type) {
  case 'm.room.create': return `${who} created the room`;
  case 'm.room.name': return c.name ? `${who} named the room “${c.name}”` : `${who} removed the room name`;
  case 'm.room.topic': return c.topic ? `${who} set the topic: ${c.topic}` : `${who} removed the topic`;
  case 'm.room.avatar': return c.url ? `${who} changed the room picture` : `${who} removed the room picture`;
  case 'm.room.member': {
    const target = c.displayname || localpart(e.state_key);
    const prev = e.unsigned?.prev_content ?? {};
    if (c.membership === 'join') {
      if (prev.membership !== 'join') return `${target} joined`;
      if (prev.displayname !== c.displayname) return `${localpart(e.state_key)} is now called ${target}`;
      return prev.avatar_url !== c.avatar_url ? `${target} changed their picture` : null;
    }
    if (c.membership === 'invite') return `${who} invited ${target}`;
    if (c.membership === 'leave') {
      if (prev.membership === 'invite' && e.sender === e.state_key) return `${target} declined the invitation`;
      return e.sender === e.state_key ? `${target} left` : `${who} removed ${target}`;
    }
    if (c.membership === 'ban') return `${who} banned ${target}`;
    return null;
  }
  default: return null;
  }
}

// Events that are drawn inside others, or not at all.
function folded(e) {
  if (e.type === 'm.reaction' || e.type === 'm.room.redaction') return true;
  return e.type === 'm.room.message' && e.content?.['m.relates_to']?.rel_type === 'm.replace';
}

export class TimelineView {
  // app: { client, media, me, onAction(action, eventId, extra) }
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.list = doc.getElementById('events');
    this.box = doc.getElementById('timeline');
    this.drawnRoom = null;
    this.list.addEventListener('click', (event) => {
      const button = event.target.closest('[data-action]');
      const item = event.target.closest('li[data-event-id]');
      if (!button || !item) return;
      app.onAction(button.dataset.action, item.dataset.eventId, button.dataset);
    });
  }

  render(room, pending, { keepScroll = false } = {}) {
    const box = this.box;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const oldHeight = box.scrollHeight;
    const items = [];
    let lastDay = null;
    let last = null;
    for (const e of room.timeline) {
      if (folded(e)) continue;
      const ts = e.origin_server_ts ?? 0;
      const day = dayOf(ts);
      if (day !== lastDay) {
        items.push(el('li', { className: 'day', textContent: day }));
        lastDay = day;
        last = null;
      }
      if (e.type === 'm.room.message') {
        const grouped = last && last.sender === e.sender && ts - last.ts < GROUP_GAP_MS;
        items.push(this.#message(room, e, grouped));
        last = { sender: e.sender, ts };
      } else {
        const text = describe(room, e);
        if (!text) continue;
        items.push(el('li', { className: 'notice', dataset: { eventId: e.event_id } },
          el('span', { textContent: text }), el('time', { className: 'time', textContent: timeOf(ts) }),
          this.#readers(room, e)));
        last = null;
      }
    }
    for (const [txnId, p] of pending) {
      if (p.roomId !== room.id) continue;
      items.push(el('li', { className: `message mine pending ${p.state}`, dataset: { txnId } },
        el('div', { className: 'body', textContent: p.body }),
        el('div', { className: 'state', textContent: p.state === 'failed' ? `not sent: ${p.error}` : 'sending…' })));
    }
    this.list.replaceChildren(...items);
    const newRoom = this.drawnRoom !== room.id;
    this.drawnRoom = room.id;
    if (keepScroll) box.scrollTop = box.scrollHeight - oldHeight;
    else if (newRoom || atBottom || pending.size) box.scrollTop = box.scrollHeight;
  }

  #message(room, e, grouped) {
    const me = this.app.me;
    const content = room.contentOf(e);
    const mine = e.sender === me;
    const ts = e.origin_server_ts ?? 0;
    const classes = ['message'];
    if (grouped) classes.push('grouped');
    if (mine) classes.push('mine');
    if (!content) classes.push('deleted');
    return el('li', { className: classes.join(' '), dataset: { eventId: e.event_id, sender: e.sender } },
      grouped ? null : el('div', { className: 'meta' },
        el('span', { className: 'sender', textContent: room.displayName(e.sender), title: e.sender }),
        el('time', { className: 'time', textContent: timeOf(ts), dateTime: new Date(ts).toISOString(),
          title: new Date(ts).toLocaleString() })),
      content ? this.#replyQuote(room, e) : null,
      content ? this.#body(room, e, content) : el('div', { className: 'body deleted-text', textContent: 'Message deleted' }),
      content && room.edits.has(e.event_id) ? el('span', { className: 'edited', textContent: '(edited)' }) : null,
      content ? this.#reactions(room, e) : null,
      content ? this.#actions(e, content, mine) : null,
      this.#readers(room, e));
  }

  #replyQuote(room, e) {
    const to = e.content?.['m.relates_to']?.['m.in_reply_to']?.event_id;
    if (!to) return null;
    const original = room.event(to);
    const said = original ? room.contentOf(original) : null;
    const text = !original ? 'a message not loaded here'
      : !said ? 'a deleted message'
      : said.msgtype === 'm.image' ? 'an image' : said.msgtype === 'm.file' ? `a file: ${said.body}`
      : stripReplyFallback(String(said.body ?? '')).slice(0, 140);
    return el('blockquote', { className: 'reply-quote', dataset: { replyTo: to } },
      el('span', { className: 'reply-sender', textContent: original ? room.displayName(original.sender) : '' }),
      el('span', { className: 'reply-text', textContent: text }));
  }

  #body(room, e, content) {
    const media = this.app.media;
    if (content.msgtype === 'm.image' && typeof content.url === 'string') {
      // Not loading="lazy": the bytes are already fetched into a blob, and a
      // lazy image that a redraw detached before it scrolled into view never loads.
      const img = el('img', { className: 'inline-image', alt: String(content.body ?? 'image'),
        title: String(content.body ?? '') });
      const info = content.info ?? {};
      if (info.w && info.h) img.style.aspectRatio = `${info.w} / ${info.h}`;
      const ready = media.loaded(content.url);
      if (ready) img.src = ready;
      else media.image(content.url).then((url) => { img.src = url; }, () => { img.alt = 'image unavailable'; });
      return el('div', { className: 'body' },
        el('button', { type: 'button', className: 'image-button plain', dataset: { action: 'download' },
          title: 'Download the full image' }, img));
    }
    if (['m.file', 'm.audio', 'm.video'].includes(content.msgtype) && typeof content.url === 'string') {
      return el('div', { className: 'body' },
        el('button', { type: 'button', className: 'file-chip secondary', dataset: { action: 'download' } },
          `📎 ${content.body ?? 'file'}`, el('span', { className: 'size', textContent: ` ${sizeText(content.info?.size)}` })));
    }
    const body = el('div', { className: 'body' });
    const replied = Boolean(e.content?.['m.relates_to']?.['m.in_reply_to']);
    if (content.format === 'org.matrix.custom.html' && typeof content.formatted_body === 'string') {
      body.classList.add('formatted');
      body.append(sanitizedFragment(content.formatted_body));
    } else {
      const text = String(content.body ?? '');
      body.append(linkified(replied ? stripReplyFallback(text) : text));
    }
    if (content.msgtype === 'm.emote') body.prepend(`* ${room.displayName(e.sender)} `);
    return body;
  }

  #reactions(room, e) {
    const keys = room.reactions.get(e.event_id);
    if (!keys || keys.size === 0) return null;
    const me = this.app.me;
    return el('div', { className: 'reactions' }, ...[...keys].map(([key, senders]) =>
      el('button', { type: 'button', className: `reaction${senders.has(me) ? ' mine' : ''}`,
        dataset: { action: 'toggle-reaction', key },
        title: [...senders.keys()].map((u) => room.displayName(u)).join(', ') },
      `${key} `, el('span', { className: 'count', textContent: String(senders.size) }))));
  }

  #actions(e, content, mine) {
    const text = !content.msgtype || content.msgtype === 'm.text' || content.msgtype === 'm.emote';
    return el('div', { className: 'actions-bar' },
      ...QUICK_REACTIONS.slice(0, 3).map((key) => el('button', { type: 'button', className: 'plain',
        dataset: { action: 'react', key }, ariaLabel: `React ${key}`, textContent: key })),
      el('button', { type: 'button', className: 'plain', dataset: { action: 'reply' }, textContent: 'Reply' }),
      mine && text ? el('button', { type: 'button', className: 'plain', dataset: { action: 'edit' }, textContent: 'Edit' }) : null,
      mine ? el('button', { type: 'button', className: 'plain danger', dataset: { action: 'delete' }, textContent: 'Delete' }) : null);
  }

  // "Seen by" under the newest event each other member has read.
  #readers(room, e) {
    const readers = room.readersAt(e.event_id, this.app.me);
    if (!readers.length) return null;
    const names = readers.map((u) => room.displayName(u));
    return el('div', { className: 'receipts', title: `Seen by ${names.join(', ')}` },
      ...readers.slice(0, 5).map((u) => el('span', { className: 'avatar tiny', dataset: { userId: u },
        textContent: room.displayName(u).slice(0, 1).toUpperCase() })),
      el('span', { className: 'receipt-text', textContent: `Seen by ${names.join(', ')}` }));
  }
}
