// push_rules.test.mjs -- /pushrules (the default ruleset, user rules,
// ordering, enabled, actions), their effect on unread counts and their
// delivery through /sync; /pushers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, createRoom, join, register, send, sendMessage, seg, sync } from './lib/matrix.mjs';
import { sleep } from './lib/rest.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

const rulePath = (kind, ruleId, tail = '') => `${V3}/pushrules/global/${kind}/${seg(ruleId)}${tail}`;
const putRule = (who, kind, ruleId, body, query = '') =>
  srv.fetch(rulePath(kind, ruleId) + query, { method: 'PUT', body, token: who.token });
const ids = (list) => list.map((r) => r.rule_id);
const global = async (who) => (await srv.fetch(`${V3}/pushrules/`, { token: who.token })).json.global;

describe('the default ruleset', () => {
  test('has the spec\'s server-default rules, in order', async () => {
    const u = await register(srv, 'pr1');
    const res = await srv.fetch(`${V3}/pushrules/`, { token: u.token });
    assert.equal(res.status, 200);
    const g = res.json.global;
    assert.deepEqual(ids(g.override), [
      '.m.rule.master', '.m.rule.suppress_notices', '.m.rule.invite_for_me', '.m.rule.member_event',
      '.m.rule.is_user_mention', '.m.rule.contains_display_name', '.m.rule.is_room_mention', '.m.rule.roomnotif',
      '.m.rule.tombstone', '.m.rule.reaction', '.m.rule.room.server_acl', '.m.rule.suppress_edits',
    ]);
    assert.deepEqual(ids(g.content), ['.m.rule.contains_user_name']);
    assert.deepEqual(g.room, []);
    assert.deepEqual(g.sender, []);
    assert.deepEqual(ids(g.underride), [
      '.m.rule.call', '.m.rule.encrypted_room_one_to_one', '.m.rule.room_one_to_one', '.m.rule.message',
      '.m.rule.encrypted',
    ]);
    assert.equal(g.override[0].enabled, false, 'master is off');
    assert.equal(g.content[0].pattern, 'pr1');
    const invite = g.override.find((r) => r.rule_id === '.m.rule.invite_for_me');
    assert.deepEqual(invite.conditions[2], { kind: 'event_match', key: 'state_key', pattern: u.user_id });
    assert.ok(g.override.every((r) => r.default === true && Array.isArray(r.actions)));
  });

  test('/pushrules/global/ is the same ruleset, and /pushrules without slash too', async () => {
    const u = await register(srv, 'pr2');
    const all = await global(u);
    assert.deepEqual((await srv.fetch(`${V3}/pushrules/global/`, { token: u.token })).json, all);
    assert.deepEqual((await srv.fetch(`${V3}/pushrules`, { token: u.token })).json.global, all);
  });

  test('a single rule, its enabled flag and its actions are read', async () => {
    const u = await register(srv, 'pr3');
    const rule = await srv.fetch(rulePath('underride', '.m.rule.message'), { token: u.token });
    assert.deepEqual(rule.json, {
      rule_id: '.m.rule.message', default: true, enabled: true,
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }], actions: ['notify'],
    });
    assert.deepEqual((await srv.fetch(rulePath('override', '.m.rule.master', '/enabled'), { token: u.token })).json, { enabled: false });
    assert.deepEqual((await srv.fetch(rulePath('underride', '.m.rule.message', '/actions'), { token: u.token })).json, { actions: ['notify'] });
  });

  test('unknown rules are 404 and unknown kinds 400', async () => {
    const u = await register(srv, 'pr4');
    assertError(await srv.fetch(rulePath('override', 'nope'), { token: u.token }), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(rulePath('content', '.m.rule.master'), { token: u.token }), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(rulePath('sideways', 'x'), { token: u.token }), 400, 'M_INVALID_PARAM');
    assertError(await srv.fetch(rulePath('override', 'nope', '/enabled'), { token: u.token }), 404, 'M_NOT_FOUND');
  });
});

describe('user rules', () => {
  test('a new rule goes first among the user\'s rules of its kind, before the defaults', async () => {
    const u = await register(srv, 'ur1');
    assert.equal((await putRule(u, 'content', 'cake', { pattern: 'cake*lie', actions: ['notify'] })).status, 200);
    assert.equal((await putRule(u, 'content', 'tea', { pattern: 'tea', actions: ['notify'] })).status, 200);
    const g = await global(u);
    assert.deepEqual(ids(g.content), ['tea', 'cake', '.m.rule.contains_user_name']);
    assert.deepEqual(g.content[1], { rule_id: 'cake', default: false, enabled: true, pattern: 'cake*lie', actions: ['notify'] });
  });

  test('before and after place a rule next to another user rule', async () => {
    const u = await register(srv, 'ur2');
    await putRule(u, 'override', 'a', { actions: [] });
    await putRule(u, 'override', 'c', { actions: [] }, '?after=a');
    await putRule(u, 'override', 'b', { actions: [] }, '?before=c');
    const g = await global(u);
    assert.deepEqual(ids(g.override).slice(0, 4), ['.m.rule.master', 'a', 'b', 'c']);
    assertError(await putRule(u, 'override', 'd', { actions: [] }, '?before=zzz'), 400, 'M_UNKNOWN');
    assertError(await putRule(u, 'override', 'd', { actions: [] }, '?after=.m.rule.master'), 400, 'M_UNKNOWN');
  });

  test('updating a rule keeps its place and its enabled flag', async () => {
    const u = await register(srv, 'ur3');
    await putRule(u, 'underride', 'x', { actions: ['notify'], conditions: [] });
    await putRule(u, 'underride', 'y', { actions: ['notify'], conditions: [] });
    await srv.fetch(rulePath('underride', 'x', '/enabled'), { method: 'PUT', body: { enabled: false }, token: u.token });
    await putRule(u, 'underride', 'x', { actions: [], conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.x' }] });
    const g = await global(u);
    assert.deepEqual(ids(g.underride).slice(0, 2), ['y', 'x']);
    assert.deepEqual(g.underride[1], {
      rule_id: 'x', default: false, enabled: false, actions: [],
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.x' }],
    });
  });

  test('historical actions are dropped', async () => {
    const u = await register(srv, 'ur4');
    await putRule(u, 'room', '!someroom:localhost', { actions: ['dont_notify'] });
    const rule = await srv.fetch(rulePath('room', '!someroom:localhost'), { token: u.token });
    assert.deepEqual(rule.json, { rule_id: '!someroom:localhost', default: false, enabled: true, actions: [] });
  });

  test('bad rules are refused', async () => {
    const u = await register(srv, 'ur5');
    assertError(await putRule(u, 'override', '.m.rule.mine', { actions: [] }), 400, 'M_INVALID_PARAM');
    assertError(await putRule(u, 'override', 'a\\b', { actions: [] }), 400, 'M_INVALID_PARAM');
    assertError(await putRule(u, 'override', 'noactions', {}), 400, 'M_MISSING_PARAM');
    assertError(await putRule(u, 'override', 'badactions', { actions: 'notify' }), 400, 'M_BAD_JSON');
    assertError(await putRule(u, 'override', 'weird', { actions: ['explode'] }), 400, 'M_INVALID_PARAM');
    assertError(await putRule(u, 'content', 'nopattern', { actions: [] }), 400, 'M_MISSING_PARAM');
    assertError(await putRule(u, 'override', 'badcond', { actions: [], conditions: [{ key: 'x' }] }), 400, 'M_BAD_JSON');
    assertError(await putRule(u, 'sideways', 'x', { actions: [] }), 400, 'M_INVALID_PARAM');
    assert.deepEqual(ids((await global(u)).override), ids((await global(await register(srv, 'ur5clean'))).override));
  });

  test('user rules are deleted; default rules cannot be', async () => {
    const u = await register(srv, 'ur6');
    await putRule(u, 'sender', '@spammer:localhost', { actions: [] });
    const del = await srv.fetch(rulePath('sender', '@spammer:localhost'), { method: 'DELETE', token: u.token });
    assert.equal(del.status, 200);
    assertError(await srv.fetch(rulePath('sender', '@spammer:localhost'), { token: u.token }), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(rulePath('sender', '@spammer:localhost'), { method: 'DELETE', token: u.token }), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(rulePath('override', '.m.rule.master'), { method: 'DELETE', token: u.token }), 400, 'M_INVALID_PARAM');
  });

  test('enabled and actions of a default rule are changed and kept', async () => {
    const u = await register(srv, 'ur7');
    const en = await srv.fetch(rulePath('override', '.m.rule.suppress_notices', '/enabled'),
      { method: 'PUT', body: { enabled: false }, token: u.token });
    assert.equal(en.status, 200);
    const act = await srv.fetch(rulePath('underride', '.m.rule.message', '/actions'),
      { method: 'PUT', body: { actions: ['notify', { set_tweak: 'sound', value: 'default' }] }, token: u.token });
    assert.equal(act.status, 200);
    const g = await global(u);
    assert.equal(g.override.find((r) => r.rule_id === '.m.rule.suppress_notices').enabled, false);
    assert.deepEqual(g.underride.find((r) => r.rule_id === '.m.rule.message').actions,
      ['notify', { set_tweak: 'sound', value: 'default' }]);
  });

  test('bad enabled and actions bodies are refused', async () => {
    const u = await register(srv, 'ur8');
    const put = (tail, body) => srv.fetch(rulePath('override', '.m.rule.master', tail), { method: 'PUT', body, token: u.token });
    assertError(await put('/enabled', {}), 400, 'M_MISSING_PARAM');
    assertError(await put('/enabled', { enabled: 'yes' }), 400, 'M_BAD_JSON');
    assertError(await put('/actions', {}), 400, 'M_MISSING_PARAM');
    assertError(await put('/actions', { actions: {} }), 400, 'M_BAD_JSON');
    assertError(await srv.fetch(rulePath('override', 'nope', '/actions'), { method: 'PUT', body: { actions: [] }, token: u.token }), 404, 'M_NOT_FOUND');
  });

  test('a rule change reaches every device through sync as m.push_rules', async () => {
    const u = await register(srv, 'ur9');
    const since = (await sync(srv, u)).next_batch;
    const waiting = sync(srv, u, { since, timeout: 10000 });
    await sleep(200);
    await putRule(u, 'content', 'kittens', { pattern: 'kittens', actions: ['notify'] });
    const res = await waiting;
    const ev = res.account_data.events.find((e) => e.type === 'm.push_rules');
    assert.ok(ev, 'm.push_rules in account_data');
    assert.deepEqual(ids(ev.content.global.content), ['kittens', '.m.rule.contains_user_name']);
  });
});

describe('push rules decide the counts', () => {
  async function pair(name) {
    const a = await register(srv, `${name}a`);
    const b = await register(srv, `${name}b`);
    const room = await createRoom(srv, a, { preset: 'public_chat' });
    await join(srv, b, room);
    return { a, b, room };
  }
  const counts = async (who, room) => (await sync(srv, who)).rooms.join[room].unread_notifications;

  test('the master rule silences everything', async () => {
    const { a, b, room } = await pair('pc1');
    await sendMessage(srv, a, room, 'hello pc1b');
    await srv.fetch(rulePath('override', '.m.rule.master', '/enabled'), { method: 'PUT', body: { enabled: true }, token: b.token });
    assert.deepEqual(await counts(b, room), { notification_count: 0, highlight_count: 0 });
  });

  test('a room rule without actions mutes a room', async () => {
    const { a, b, room } = await pair('pc2');
    await sendMessage(srv, a, room, 'one');
    await putRule(b, 'room', room, { actions: [] });
    assert.equal((await counts(b, room)).notification_count, 0);
  });

  test('a sender rule with a highlight tweak highlights that sender', async () => {
    const { a, b, room } = await pair('pc3');
    await putRule(b, 'sender', a.user_id, { actions: ['notify', { set_tweak: 'highlight' }] });
    await sendMessage(srv, a, room, 'anything');
    assert.deepEqual(await counts(b, room), { notification_count: 1, highlight_count: 1 });
  });

  test('a content rule with a glob pattern matches whole words only', async () => {
    const { a, b, room } = await pair('pc4');
    await putRule(b, 'content', 'lunch', { pattern: 'lun?h*', actions: ['notify', { set_tweak: 'highlight', value: true }] });
    await sendMessage(srv, a, room, 'Lunchtime, anyone?');
    await sendMessage(srv, a, room, 'brunch is not it');
    assert.deepEqual(await counts(b, room), { notification_count: 2, highlight_count: 1 });
  });

  test('an override rule on a custom event type makes it count', async () => {
    const { a, b, room } = await pair('pc5');
    await putRule(b, 'override', 'pings', {
      actions: ['notify'],
      conditions: [{ kind: 'event_match', key: 'type', pattern: 'org.example.ping' },
        { kind: 'event_property_is', key: 'content.urgent', value: true }],
    });
    await send(srv, a, room, 'org.example.ping', { urgent: true });
    await send(srv, a, room, 'org.example.ping', { urgent: false });
    assert.equal((await counts(b, room)).notification_count, 1);
  });

  test('@room highlights only from senders with the power to notify the room', async () => {
    const { a, b, room } = await pair('pc6');
    const c = await register(srv, 'pc6c');
    await join(srv, c, room);
    await send(srv, a, room, 'm.room.message', { msgtype: 'm.text', body: '@room', 'm.mentions': { room: true } });
    await send(srv, c, room, 'm.room.message', { msgtype: 'm.text', body: '@room', 'm.mentions': { room: true } });
    assert.deepEqual(await counts(b, room), { notification_count: 2, highlight_count: 1 });
  });
});

describe('pushers', () => {
  const pusher = (over = {}) => ({
    pushkey: 'key1', kind: 'http', app_id: 'org.example.app', app_display_name: 'Example',
    device_display_name: 'Phone', lang: 'en', data: { url: 'https://push.example.org/_matrix/push/v1/notify' }, ...over,
  });
  const set = (who, body) => srv.fetch(`${V3}/pushers/set`, { method: 'POST', body, token: who.token });
  const list = async (who) => (await srv.fetch(`${V3}/pushers`, { token: who.token })).json.pushers;

  test('a new account has no pushers', async () => {
    const u = await register(srv, 'ps1');
    const res = await srv.fetch(`${V3}/pushers`, { token: u.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { pushers: [] });
  });

  test('a pusher is stored, listed, replaced and deleted', async () => {
    const u = await register(srv, 'ps2');
    assert.equal((await set(u, pusher())).status, 200);
    assert.deepEqual(await list(u), [pusher()]);
    await set(u, pusher({ device_display_name: 'Tablet' }));
    assert.deepEqual(await list(u), [pusher({ device_display_name: 'Tablet' })]);
    assert.equal((await set(u, { pushkey: 'key1', app_id: 'org.example.app', kind: null })).status, 200);
    assert.deepEqual(await list(u), []);
  });

  test('without append, a pushkey moves from another user', async () => {
    const a = await register(srv, 'ps3a');
    const b = await register(srv, 'ps3b');
    await set(a, pusher({ pushkey: 'shared' }));
    await set(b, pusher({ pushkey: 'shared', append: true }));
    assert.equal((await list(a)).length, 1, 'append keeps the other');
    await set(b, pusher({ pushkey: 'shared' }));
    assert.deepEqual(await list(a), []);
    assert.equal((await list(b)).length, 1);
  });

  test('a user keeps at most 100 pushers, and may still replace one', async () => {
    const u = await register(srv, 'ps5');
    for (let i = 0; i < 100; i++) assert.equal((await set(u, pusher({ pushkey: `k${i}` }))).status, 200);
    assertError(await set(u, pusher({ pushkey: 'one-too-many' })), 400, 'M_INVALID_PARAM');
    assert.equal((await set(u, pusher({ pushkey: 'k7', lang: 'fr' }))).status, 200);
    assert.equal((await list(u)).length, 100);
  });

  test('incomplete or wrong pushers are refused', async () => {
    const u = await register(srv, 'ps4');
    assertError(await set(u, pusher({ pushkey: undefined })), 400, 'M_MISSING_PARAM');
    assertError(await set(u, pusher({ app_display_name: undefined })), 400, 'M_MISSING_PARAM');
    assertError(await set(u, pusher({ kind: 'carrier-pigeon' })), 400, 'M_INVALID_PARAM');
    assertError(await set(u, pusher({ data: {} })), 400, 'M_INVALID_PARAM');
    assertError(await set(u, pusher({ data: 'x' })), 400, 'M_BAD_JSON');
    assertError(await set(u, pusher({ append: 'yes' })), 400, 'M_BAD_JSON');
    assert.deepEqual(await list(u), []);
  });
});
