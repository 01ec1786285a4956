// hometab_vs_synapse.test.mjs -- hometab and the reference server, Synapse 1.67.0, share rooms
// over loopback TLS (hometab behind stunnel4, as behind a reverse proxy; both trust one test CA).
// Users meet only through the client API of their own server; each scenario asserts what the
// other side's users see. Run with `make interop`.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { V3, createRoom, register, seg, sendMessage, sync } from '../api/lib/matrix.mjs';
import { startFederating } from '../federation/lib/hometab.mjs';
import { eventually, startPair } from './lib/pair.mjs';

describe('hometab and Synapse 1.67.0 federate', () => {
  let pair, syn, ht, alice, sam;

  // A Synapse user's view of a room: its timeline (newest last) and state.
  const synMessages = async (roomId) => {
    const r = await syn.client(sam, 'GET', `${V3}/rooms/${seg(roomId)}/messages?dir=b&limit=100`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.chunk.reverse();
  };
  const synState = async (roomId) => {
    const r = await syn.client(sam, 'GET', `${V3}/rooms/${seg(roomId)}/state`);
    return r.status === 200 ? r.json : null;
  };
  const htMessages = async (roomId) => {
    const r = await ht.fetch(`${V3}/rooms/${seg(roomId)}/messages?dir=b&limit=100`, { token: alice.token });
    assert.equal(r.status, 200, r.text);
    return r.json.chunk.reverse();
  };
  const synSend = async (roomId, body) => {
    const r = await syn.client(sam, 'PUT', `${V3}/rooms/${seg(roomId)}/send/m.room.message/t${Date.now()}${Math.random()}`,
      { msgtype: 'm.text', body });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.event_id;
  };
  const bodies = (events) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

  before(async () => {
    pair = await startPair();
    ({ syn, ht } = pair);
    alice = await register(ht, 'alice');
    sam = await syn.registerUser('sam');
  });

  after(() => pair?.stop());

  test('a Synapse user joins a hometab room; messages cross both ways with the same ids', async () => {
    const roomId = await createRoom(ht, alice, { preset: 'public_chat', name: 'Made on hometab' });
    const join = await syn.client(sam, 'POST', `${V3}/join/${seg(roomId)}?server_name=${seg(ht.serverName)}`, {});
    assert.equal(join.status, 200, `Synapse's join: ${JSON.stringify(join.json)}\n${syn.log().slice(-4000)}`);
    const state = await synState(roomId);
    assert.equal(state.find((e) => e.type === 'm.room.name')?.content.name, 'Made on hometab');

    const fromHt = await sendMessage(ht, alice, roomId, 'hello Synapse');
    await eventually(async () => (await synMessages(roomId)).find((e) => e.event_id === fromHt), 'Synapse has hometab\'s message');
    const fromSyn = await synSend(roomId, 'hello hometab');
    await eventually(async () => (await htMessages(roomId)).find((e) => e.event_id === fromSyn), 'hometab has Synapse\'s message');
    // The same order on both sides.
    const a = bodies(await htMessages(roomId));
    const s = bodies(await synMessages(roomId));
    assert.deepEqual(a, s);
  });

  test('a hometab user joins a Synapse room by id and by alias', async () => {
    const made = await syn.client(sam, 'POST', `${V3}/createRoom`, { preset: 'public_chat', name: 'Made on Synapse', room_alias_name: 'synroom' });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    const roomId = made.json.room_id;
    const alias = `#synroom:${syn.serverName}`;
    const res = await ht.fetch(`${V3}/join/${seg(alias)}`, { method: 'POST', body: {}, token: alice.token });
    assert.equal(res.status, 200, `${res.text}\n${syn.log().slice(-4000)}`);
    assert.equal(res.json.room_id, roomId);
    const st = await ht.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.name`, { token: alice.token });
    assert.equal(st.json?.name, 'Made on Synapse', st.text);

    await synSend(roomId, 'from Synapse');
    await eventually(async () => bodies(await htMessages(roomId)).includes('from Synapse'), 'hometab receives');
    const mine = await sendMessage(ht, alice, roomId, 'from hometab');
    await eventually(async () => (await synMessages(roomId)).find((e) => e.event_id === mine), 'Synapse receives');
  });

  // More events than three of hometab's slices (federation/join_intake.c): Synapse's send_join
  // answer is taken a slice a pass, each committed, and the room is whole at the end.
  test('a hometab user joins a big Synapse room, its answer taken in slices', async () => {
    const made = await syn.client(sam, 'POST', `${V3}/createRoom`, { preset: 'public_chat', name: 'Big on Synapse' });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    const roomId = made.json.room_id;
    const EXTRA = 400;
    for (let k = 0; k < EXTRA; k++) {
      const r = await syn.client(sam, 'PUT', `${V3}/rooms/${seg(roomId)}/state/org.hometab.test/key${k}`, { k });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    const res = await ht.fetch(`${V3}/join/${seg(roomId)}?server_name=${seg(syn.serverName)}`,
      { method: 'POST', body: {}, token: alice.token });
    assert.equal(res.status, 200, `${res.text}\n${syn.log().slice(-4000)}`);
    const st = await ht.fetch(`${V3}/rooms/${seg(roomId)}/state`, { token: alice.token });
    assert.equal(st.status, 200, st.text);
    assert.equal(st.json.filter((e) => e.type === 'org.hometab.test').length, EXTRA);
    const mine = await sendMessage(ht, alice, roomId, 'joined the big room');
    await eventually(async () => (await synMessages(roomId)).find((e) => e.event_id === mine), 'Synapse receives');
  });

  test('invites cross both ways, and each invitee joins', async () => {
    // hometab invites a Synapse user.
    const roomId = await createRoom(ht, alice, { preset: 'private_chat', name: 'Invite only' });
    const inv = await ht.fetch(`${V3}/rooms/${seg(roomId)}/invite`, { method: 'POST', body: { user_id: sam.userId }, token: alice.token });
    assert.equal(inv.status, 200, `${inv.text}\n${syn.log().slice(-4000)}`);
    const joined = await eventually(async () => {
      const r = await syn.client(sam, 'POST', `${V3}/rooms/${seg(roomId)}/join`, {});
      return r.status === 200 && r;
    }, 'Synapse\'s user can join after the invite');
    assert.equal(joined.json.room_id, roomId);

    // A Synapse user invites a hometab user.
    const made = await syn.client(sam, 'POST', `${V3}/createRoom`, { preset: 'private_chat', name: 'Synapse private', invite: [alice.user_id] });
    assert.equal(made.status, 200, `${JSON.stringify(made.json)}\n${syn.log().slice(-4000)}`);
    const other = made.json.room_id;
    let since;
    await eventually(async () => {
      const s = await sync(ht, alice, { since, timeout: 500 });
      since = s.next_batch;
      return s.rooms?.invite?.[other];
    }, 'the invite in hometab\'s sync');
    const j = await ht.fetch(`${V3}/rooms/${seg(other)}/join`, { method: 'POST', body: {}, token: alice.token });
    assert.equal(j.status, 200, j.text);
    const mine = await sendMessage(ht, alice, other, 'thanks, Sam');
    await eventually(async () => (await synMessages(other)).find((e) => e.event_id === mine), 'Synapse receives');
  });

  test('knocks cross both ways, and the knocker let in by an invite joins', async () => {
    const knockRule = [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }];
    // A hometab user knocks on a Synapse room.
    const made = await syn.client(sam, 'POST', `${V3}/createRoom`, { preset: 'private_chat', name: 'Knock on Synapse', room_version: '10', initial_state: knockRule });
    assert.equal(made.status, 200, JSON.stringify(made.json));
    const synRoom = made.json.room_id;
    const knock = await ht.fetch(`${V3}/knock/${seg(synRoom)}?server_name=${seg(syn.serverName)}`, { method: 'POST', body: { reason: 'from hometab' }, token: alice.token });
    assert.equal(knock.status, 200, `${knock.text}\n${syn.log().slice(-3000)}`);
    const shown = await eventually(async () => (await sync(ht, alice, { timeout: 0 })).rooms?.knock?.[synRoom], 'alice sees her knock');
    assert.equal(shown.knock_state.events.find((e) => e.type === 'm.room.name')?.content.name, 'Knock on Synapse');
    await eventually(async () => {
      const r = await syn.client(sam, 'GET', `${V3}/rooms/${seg(synRoom)}/state/m.room.member/${seg(alice.user_id)}`);
      return r.json?.membership === 'knock';
    }, 'Synapse has alice\'s knock');
    const inv = await syn.client(sam, 'POST', `${V3}/rooms/${seg(synRoom)}/invite`, { user_id: alice.user_id });
    assert.equal(inv.status, 200, JSON.stringify(inv.json));
    await eventually(async () => (await sync(ht, alice, { timeout: 0 })).rooms?.invite?.[synRoom], 'alice is invited');
    const join = await ht.fetch(`${V3}/join/${seg(synRoom)}?server_name=${seg(syn.serverName)}`, { method: 'POST', body: {}, token: alice.token });
    assert.equal(join.status, 200, join.text);

    // A Synapse user knocks on a hometab room.
    const htRoom = await createRoom(ht, alice, { preset: 'private_chat', name: 'Knock on hometab', initial_state: knockRule });
    const synKnock = await syn.client(sam, 'POST', `${V3}/knock/${seg(htRoom)}?server_name=${seg(ht.serverName)}`, { reason: 'from Synapse' });
    assert.equal(synKnock.status, 200, `${JSON.stringify(synKnock.json)}\n${syn.log().slice(-3000)}`);
    const m = await ht.fetch(`${V3}/rooms/${seg(htRoom)}/state/m.room.member/${seg(sam.userId)}`, { token: alice.token });
    assert.equal(m.json?.membership, 'knock', m.text);
    const invited = await ht.fetch(`${V3}/rooms/${seg(htRoom)}/invite`, { method: 'POST', body: { user_id: sam.userId }, token: alice.token });
    assert.equal(invited.status, 200, invited.text);
    await eventually(async () => {
      const r = await syn.client(sam, 'POST', `${V3}/join/${seg(htRoom)}?server_name=${seg(ht.serverName)}`, {});
      return r.status === 200;
    }, 'sam joins the hometab room once invited');
  });

  test('typing and read receipts cross both ways', async () => {
    const roomId = await createRoom(ht, alice, { preset: 'public_chat' });
    const join = await syn.client(sam, 'POST', `${V3}/join/${seg(roomId)}?server_name=${seg(ht.serverName)}`, {});
    assert.equal(join.status, 200);
    // Synapse → hometab.
    const t = await syn.client(sam, 'PUT', `${V3}/rooms/${seg(roomId)}/typing/${seg(sam.userId)}`, { typing: true, timeout: 20000 });
    assert.equal(t.status, 200);
    let since;
    await eventually(async () => {
      const s = await sync(ht, alice, { since, timeout: 500 });
      since = s.next_batch;
      const typing = s.rooms?.join?.[roomId]?.ephemeral?.events?.find((e) => e.type === 'm.typing');
      return typing?.content.user_ids.includes(sam.userId);
    }, 'Sam typing, seen on hometab');
    // hometab → Synapse: a read receipt.
    const eventId = await sendMessage(ht, alice, roomId, 'read me');
    await eventually(async () => (await synMessages(roomId)).find((e) => e.event_id === eventId), 'Synapse has the message');
    const r = await ht.fetch(`${V3}/rooms/${seg(roomId)}/receipt/m.read/${seg(eventId)}`, { method: 'POST', body: {}, token: alice.token });
    assert.equal(r.status, 200);
    let synSince;
    await eventually(async () => {
      const q = synSince ? `?since=${seg(synSince)}&timeout=500` : '?timeout=0';
      const s = await syn.client(sam, 'GET', `${V3}/sync${q}`);
      synSince = s.json.next_batch;
      const receipt = s.json.rooms?.join?.[roomId]?.ephemeral?.events?.find((e) => e.type === 'm.receipt');
      return receipt?.content[eventId]?.['m.read']?.[alice.user_id];
    }, 'Alice\'s receipt, seen on Synapse');
  });

  test('presence crosses both ways', async () => {
    const roomId = await createRoom(ht, alice, { preset: 'public_chat' });
    const join = await syn.client(sam, 'POST', `${V3}/join/${seg(roomId)}?server_name=${seg(ht.serverName)}`, {});
    assert.equal(join.status, 200, JSON.stringify(join.json));
    const put = await ht.fetch(`${V3}/presence/${seg(alice.user_id)}/status`, {
      method: 'PUT', body: { presence: 'online', status_msg: 'on hometab' }, token: alice.token,
    });
    assert.equal(put.status, 200, put.text);
    await eventually(async () => {
      const r = await syn.client(sam, 'GET', `${V3}/presence/${seg(alice.user_id)}/status`);
      return r.json?.presence === 'online' && r.json?.status_msg === 'on hometab';
    }, 'Synapse shows alice online with her status');
    const set = await syn.client(sam, 'PUT', `${V3}/presence/${seg(sam.userId)}/status`, { presence: 'unavailable', status_msg: 'on Synapse' });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    await eventually(async () => {
      const r = await ht.fetch(`${V3}/presence/${seg(sam.userId)}/status`, { token: alice.token });
      return r.json?.presence === 'unavailable' && r.json?.status_msg === 'on Synapse';
    }, 'hometab shows sam away with his status');
  });

  test('profiles are asked across', async () => {
    await syn.client(sam, 'PUT', `${V3}/profile/${seg(sam.userId)}/displayname`, { displayname: 'Sam of Synapse' });
    const r = await ht.fetch(`${V3}/profile/${seg(sam.userId)}`, { token: alice.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.displayname, 'Sam of Synapse');
    await ht.fetch(`${V3}/profile/${seg(alice.user_id)}/displayname`, { method: 'PUT', body: { displayname: 'Alice of hometab' }, token: alice.token });
    const s = await syn.client(sam, 'GET', `${V3}/profile/${seg(alice.user_id)}`);
    assert.equal(s.status, 200, JSON.stringify(s.json));
    assert.equal(s.json.displayname, 'Alice of hometab');
  });

  test('leaving crosses: each side sees the other leave', async () => {
    const roomId = await createRoom(ht, alice, { preset: 'public_chat' });
    const join = await syn.client(sam, 'POST', `${V3}/join/${seg(roomId)}?server_name=${seg(ht.serverName)}`, {});
    assert.equal(join.status, 200);
    const left = await syn.client(sam, 'POST', `${V3}/rooms/${seg(roomId)}/leave`, {});
    assert.equal(left.status, 200);
    await eventually(async () => {
      const r = await ht.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.member/${seg(sam.userId)}`, { token: alice.token });
      return r.json?.membership === 'leave';
    }, 'hometab sees Sam leave');
  });

  // Synapse sends a server that was away only each room's newest event ("catch-up"): hometab
  // fills what get_missing_events brings and bridges the rest with the state at the gap.
  test('hometab away while Synapse users talk: on its return the room carries on', async (t) => {
    const roomId = await createRoom(ht, alice, { preset: 'public_chat', name: 'Away for a while' });
    const join = await syn.client(sam, 'POST', `${V3}/join/${seg(roomId)}?server_name=${seg(ht.serverName)}`, {});
    assert.equal(join.status, 200, JSON.stringify(join.json));
    const hello = await synSend(roomId, 'before');
    await eventually(async () => (await htMessages(roomId)).find((e) => e.event_id === hello), 'hometab has the first message');

    const { port, db } = ht;
    const frontPort = Number(ht.serverName.split(':').pop());
    await ht.stop({ keepFiles: true });
    ht = pair.ht = null;
    for (let i = 0; i < 25; i++) await synSend(roomId, `while away ${i}`);
    ht = pair.ht = await startFederating({ tls: pair.tls, port, frontPort, db });

    // Synapse learns hometab is back when hometab talks to it.
    const back = await sendMessage(ht, alice, roomId, 'back');
    await eventually(async () => (await synMessages(roomId)).find((e) => e.event_id === back), 'Synapse has the message sent on return', 120000);
    const after = await synSend(roomId, 'after the return');
    await eventually(async () => (await htMessages(roomId)).find((e) => e.event_id === after), 'hometab has the message after the gap', 120000);
    const seen = bodies(await htMessages(roomId)).filter((b) => b.startsWith('while away')).length;
    t.diagnostic(`hometab shows ${seen} of the 25 messages sent while it was away`);
    // Both build on one room: hometab's next message reaches Synapse.
    const last = await sendMessage(ht, alice, roomId, 'and on');
    await eventually(async () => (await synMessages(roomId)).find((e) => e.event_id === last), 'Synapse has hometab\'s next message');
  });
});
