// notify.js -- a browser notification when someone mentions the user while
// this tab is in the background (the user opts in; the browser asks once).
//
// A mention is judged as the spec's push rules do for clients that send
// m.mentions (the user's id listed there), and otherwise by the legacy rule:
// the user's id, localpart or display name as a word in the body.

const KEY = 'hometab-demo-notify';

export function wanted() {
  return localStorage.getItem(KEY) === 'on';
}

// Turns notifications on (asking the browser) or off; resolves with the state.
export async function setWanted(on) {
  if (!on || !('Notification' in globalThis)) {
    localStorage.setItem(KEY, 'off');
    return false;
  }
  const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
  localStorage.setItem(KEY, permission === 'granted' ? 'on' : 'off');
  return permission === 'granted';
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function mentions(event, me, myName) {
  const content = event.content ?? {};
  const listed = content['m.mentions'];
  if (listed && typeof listed === 'object') return Array.isArray(listed.user_ids) && listed.user_ids.includes(me);
  const body = typeof content.body === 'string' ? content.body : '';
  const names = [me, me.replace(/^@/, '').split(':')[0], myName].filter(Boolean).map(escape);
  return new RegExp(`(^|\\W)(${names.join('|')})(\\W|$)`, 'i').test(body);
}

// Shows one notification per new mention, if wanted and the tab is hidden.
export function notifyMentions(events, { me, myName, roomName, senderName, onOpen }) {
  if (!wanted() || document.visibilityState !== 'hidden' || Notification.permission !== 'granted') return 0;
  let shown = 0;
  for (const e of events) {
    if (e.type !== 'm.room.message' || e.sender === me || !mentions(e, me, myName)) continue;
    const n = new Notification(`${senderName(e.sender)} in ${roomName}`,
      { body: String(e.content.body).slice(0, 200), tag: e.event_id });
    n.onclick = () => { window.focus(); onOpen(); n.close(); };
    shown++;
  }
  return shown;
}
