// dialogs.js -- the three dialogs: the public room directory, a room's
// settings (name, topic, picture), and the user's own profile (display
// name, picture, mention notifications). Each says its errors inside itself.

import { setWanted, wanted } from './notify.js';
import { el } from './timeline.js';

function say(node, text) {
  node.textContent = text;
}

export class Dialogs {
  // app: { client, rooms, current(), joinRoom(idOrAlias) -> Promise<bool> }
  constructor(doc, app) {
    this.doc = doc;
    this.app = app;
    this.$ = (id) => doc.getElementById(id);
    this.$('directory-button').addEventListener('click', () => this.openDirectory());
    this.$('directory-close').addEventListener('click', () => this.$('directory-dialog').close());
    this.$('directory-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#search();
    });
    this.$('directory-list').addEventListener('click', async (e) => {
      const button = e.target.closest('button[data-room-id]');
      if (!button) return;
      if (await this.app.joinRoom(button.dataset.roomId, this.$('directory-message'))) {
        this.$('directory-dialog').close();
      }
    });
    this.$('settings-button').addEventListener('click', () => this.openSettings());
    this.$('settings-close').addEventListener('click', () => this.$('settings-dialog').close());
    this.$('settings-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#saveSettings();
    });
    this.$('profile-button').addEventListener('click', () => this.openProfile());
    this.$('profile-close').addEventListener('click', () => this.$('profile-dialog').close());
    this.$('profile-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#saveProfile();
    });
  }

  // ---- directory

  openDirectory() {
    this.$('directory-search').value = '';
    this.$('directory-dialog').showModal();
    this.#search();
  }

  async #search() {
    const message = this.$('directory-message');
    const list = this.$('directory-list');
    say(message, 'Looking…');
    try {
      const { chunk = [] } = await this.app.client.publicRooms({ search: this.$('directory-search').value.trim() });
      say(message, chunk.length ? '' : 'No public rooms match.');
      list.replaceChildren(...chunk.map((r) => {
        const joined = this.app.rooms.byId.get(r.room_id)?.membership === 'join';
        return el('li', { dataset: { roomId: r.room_id } },
          el('div', { className: 'directory-room' },
            el('strong', { textContent: r.name || r.canonical_alias || r.room_id }),
            el('span', { className: 'hint', textContent: [r.canonical_alias,
              `${r.num_joined_members} member${r.num_joined_members === 1 ? '' : 's'}`].filter(Boolean).join(' · ') }),
            r.topic ? el('span', { className: 'topic', textContent: r.topic }) : null),
          el('button', { type: 'button', dataset: { roomId: r.room_id }, disabled: joined,
            textContent: joined ? 'Joined' : 'Join' }));
      }));
    } catch (e) {
      say(message, `The directory did not answer: ${e.message}`);
    }
  }

  // ---- room settings

  openSettings() {
    const room = this.app.rooms.byId.get(this.app.current());
    if (!room) return;
    this.$('settings-name').value = room.getState('m.room.name')?.name ?? '';
    this.$('settings-topic').value = room.getState('m.room.topic')?.topic ?? '';
    this.$('settings-avatar').value = '';
    say(this.$('settings-message'), '');
    this.$('settings-dialog').showModal();
  }

  async #saveSettings() {
    const client = this.app.client;
    const room = this.app.rooms.byId.get(this.app.current());
    const message = this.$('settings-message');
    if (!room) return;
    const name = this.$('settings-name').value.trim();
    const topic = this.$('settings-topic').value.trim();
    const file = this.$('settings-avatar').files[0];
    say(message, 'Saving…');
    try {
      if (name !== (room.getState('m.room.name')?.name ?? '')) await client.setState(room.id, 'm.room.name', { name });
      if (topic !== (room.getState('m.room.topic')?.topic ?? '')) await client.setState(room.id, 'm.room.topic', { topic });
      if (file) {
        const url = await client.upload(file);
        await client.setState(room.id, 'm.room.avatar', { url, info: { mimetype: file.type, size: file.size } });
      }
      say(message, '');
      this.$('settings-dialog').close();
    } catch (e) {
      say(message, `Not saved: ${e.message}`);
    }
  }

  // ---- profile

  async openProfile() {
    const client = this.app.client;
    say(this.$('profile-message'), '');
    this.$('profile-avatar').value = '';
    this.$('profile-notify').checked = wanted();
    this.$('profile-dialog').showModal();
    try {
      const profile = await client.profile(client.userId);
      this.$('profile-name').value = profile.displayname ?? '';
    } catch (e) {
      say(this.$('profile-message'), `Could not read your profile: ${e.message}`);
    }
  }

  async #saveProfile() {
    const client = this.app.client;
    const message = this.$('profile-message');
    const name = this.$('profile-name').value.trim();
    const file = this.$('profile-avatar').files[0];
    say(message, 'Saving…');
    try {
      const notify = this.$('profile-notify').checked;
      if (notify !== wanted() && !(await setWanted(notify)) && notify) {
        this.$('profile-notify').checked = false;
        say(message, 'The browser did not allow notifications for this page.');
        return;
      }
      const before = await client.profile(client.userId).catch(() => ({}));
      if (name && name !== before.displayname) await client.setProfile('displayname', name);
      if (file) await client.setProfile('avatar_url', await client.upload(file));
      say(message, '');
      this.$('profile-dialog').close();
      this.app.profileChanged?.();
    } catch (e) {
      say(message, `Not saved: ${e.message}`);
    }
  }
}
