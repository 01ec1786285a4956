// composer.js -- writing into the open room: text (markdown), replies,
// edits, images and files with upload progress, and typing notices.
//
// A message shows at once as a local echo (pending, keyed by transaction id)
// and leaves the pending list when sync brings the real event back; a
// failure stays visible on the echo and under the composer.

import { messageContent } from './format.js';
import { imageSize } from './media.js';

const TYPING_IDLE_MS = 4000;

export class Composer {
  // app: { client, current(), rooms, redraw(), onError(text) }
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
    this.pending = new Map(); // txnId -> { roomId, body, state, eventId, error }
    this.context = null;      // { kind: 'reply' | 'edit', eventId }
    this.typingSent = 0;
    this.typingTimer = null;
    this.noTyping = false;    // the server has no typing endpoint
    const input = this.$('composer-input');
    this.$('composer').addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        this.send();
      } else if (e.key === 'Escape' && this.context) {
        this.cancel();
      }
    });
    input.addEventListener('input', () => this.typed());
    this.$('composer-cancel').addEventListener('click', () => this.cancel());
    const attach = this.$('attach-input');
    attach.addEventListener('change', () => {
      const file = attach.files[0];
      attach.value = '';
      if (file) this.upload(file);
    });
  }

  say(text) {
    this.$('composer-message').textContent = text;
  }

  // ---- replying and editing

  replyTo(room, eventId) {
    const e = room.event(eventId);
    if (!e) return;
    this.context = { kind: 'reply', eventId };
    this.$('composer-context-text').textContent = `Replying to ${room.displayName(e.sender)}`;
    this.$('composer-context').hidden = false;
    this.$('composer-input').focus();
  }

  edit(room, eventId) {
    const e = room.event(eventId);
    const content = e && room.contentOf(e);
    if (!content) return;
    this.context = { kind: 'edit', eventId };
    this.$('composer-context-text').textContent = 'Editing your message';
    this.$('composer-context').hidden = false;
    const input = this.$('composer-input');
    input.value = content.body ?? '';
    input.focus();
  }

  cancel() {
    const wasEdit = this.context?.kind === 'edit';
    this.context = null;
    this.$('composer-context').hidden = true;
    if (wasEdit) this.$('composer-input').value = '';
  }

  // ---- sending

  async send() {
    const input = this.$('composer-input');
    const text = input.value.trim();
    const roomId = this.app.current();
    if (!text || !roomId) return;
    const context = this.context;
    input.value = '';
    this.cancel();
    this.stopTyping();
    this.say('');
    let content = messageContent(text);
    if (context?.kind === 'edit') {
      content = { ...content, body: `* ${content.body}`, 'm.new_content': content,
        'm.relates_to': { rel_type: 'm.replace', event_id: context.eventId } };
      if (content.formatted_body) content.formatted_body = `* ${content.formatted_body}`;
    } else if (context?.kind === 'reply') {
      content['m.relates_to'] = { 'm.in_reply_to': { event_id: context.eventId } };
      const original = this.app.rooms.byId.get(roomId)?.event(context.eventId);
      if (original && original.sender !== this.app.client.userId) content['m.mentions'] = { user_ids: [original.sender] };
    }
    await this.#sendContent(roomId, content, text);
  }

  async #sendContent(roomId, content, shown) {
    const client = this.app.client;
    const txnId = client.newTxnId();
    this.pending.set(txnId, { roomId, body: shown, state: 'sending', eventId: null });
    this.app.redraw();
    try {
      const { event_id: eventId } = await client.send(roomId, 'm.room.message', content, txnId);
      const p = this.pending.get(txnId);
      if (p) Object.assign(p, { eventId, state: 'sent' });
    } catch (e) {
      const p = this.pending.get(txnId);
      if (p) Object.assign(p, { state: 'failed', error: e.message });
      this.say(`Your message was not sent: ${e.message}`);
    }
    this.reconcile();
    this.app.redraw();
  }

  // Local echoes leave once their event arrived through sync.
  reconcile() {
    for (const [txnId, p] of this.pending) {
      const room = this.app.rooms.byId.get(p.roomId);
      if (!room) continue;
      const arrived = room.timeline.some((e) => e.unsigned?.transaction_id === txnId ||
        (p.eventId && e.event_id === p.eventId));
      if (arrived) this.pending.delete(txnId);
    }
  }

  // ---- files

  async upload(file) {
    const roomId = this.app.current();
    if (!roomId) return;
    const bar = this.$('upload-bar');
    this.$('upload-name').textContent = `Uploading ${file.name}`;
    bar.value = 0;
    this.$('upload-progress').hidden = false;
    this.say('');
    try {
      const url = await this.app.client.upload(file, (fraction) => { bar.value = fraction; });
      const isImage = /^image\/(png|jpeg|gif|webp)$/.test(file.type);
      const info = { mimetype: file.type || 'application/octet-stream', size: file.size };
      if (isImage) Object.assign(info, await imageSize(file));
      await this.#sendContent(roomId, { msgtype: isImage ? 'm.image' : 'm.file', body: file.name,
        filename: file.name, url, info }, file.name);
    } catch (e) {
      this.say(`Could not send ${file.name}: ${e.message}`);
    } finally {
      this.$('upload-progress').hidden = true;
    }
  }

  // ---- typing

  typed() {
    const roomId = this.app.current();
    if (this.noTyping || !roomId) return;
    const now = Date.now();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
    if (now - this.typingSent < 10000) return;
    this.typingSent = now;
    this.typingRoom = roomId;
    this.app.client.typing(roomId, true).catch((e) => {
      if (e.status === 404 || e.status === 405) this.noTyping = true;
    });
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent || this.noTyping || !this.typingRoom) return;
    this.typingSent = 0;
    this.app.client.typing(this.typingRoom, false).catch(() => {});
  }
}
