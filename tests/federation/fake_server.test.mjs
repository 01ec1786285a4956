// fake_server.test.mjs -- the federation test kit checked on its own: canonical JSON and
// signing against the spec's appendix, X-Matrix parsing against RFC 9110's grammar, and two
// fake servers federating with each other over loopback (keys, signed requests both ways,
// joins, invites, leaves, transactions, the read endpoints, broken PDUs, misbehaviour).
// The same kit is proven against Synapse in tests/interop/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { canonicalJson } from './lib/canonical-json.mjs';
import { startFakeServer } from './lib/fake-server.mjs';
import { SigningKey, b64, contentHash, eventId, hashAndSignEvent, redact, signJson, verifyJson } from './lib/signing.mjs';
import { parseXMatrix, verifyXMatrix, xMatrixHeader } from './lib/xmatrix.mjs';

const SPEC_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';

describe('canonical JSON (spec appendix)', () => {
  test('the appendix examples', () => {
    const cases = [
      ['{}', '{}'],
      ['{"one": 1, "two": "Two"}', '{"one":1,"two":"Two"}'],
      ['{"b": "2", "a": "1"}', '{"a":"1","b":"2"}'],
      ['{"auth":{"success":true,"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"medium":"email","address":"john.doe@example.org"},{"medium":"msisdn","address":"123456789"}]}}}',
        '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}'],
      ['{"a": "日本語"}', '{"a":"日本語"}'],
      ['{"本": 2, "日": 1}', '{"日":1,"本":2}'],
      ['{"a": "\\u65E5"}', '{"a":"日"}'],
      ['{"a": null}', '{"a":null}'],
      ['{"a": -0, "b": 1e10}', '{"a":0,"b":10000000000}'],
    ];
    for (const [input, expected] of cases) assert.equal(canonicalJson(JSON.parse(input)), expected, input);
  });

  test('control characters are escaped as the grammar says: short forms, else lowercase \\u00XX', () => {
    const short = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
    for (let c = 0; c < 0x20; c++) {
      const expected = short[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
      assert.equal(canonicalJson(String.fromCharCode(c)), `"${expected}"`, `U+${c.toString(16)}`);
    }
    assert.equal(canonicalJson('"\\'), '"\\"\\\\"');
    // Nothing else is escaped: DEL, the line separators, slashes, non-BMP characters.
    assert.equal(canonicalJson('\u007f\u2028\u2029/\u{1F600}'), '"\u007f\u2028\u2029/\u{1F600}"');
  });

  test('keys sort by code point, not by UTF-16 code unit', () => {
    // U+FFFD < U+1F600, though the surrogate 0xD83D sorts before 0xFFFD in UTF-16.
    assert.equal(canonicalJson({ '\u{1F600}': 2, '\uFFFD': 1 }), '{"\uFFFD":1,"\u{1F600}":2}');
  });

  test('numbers: integers in ±(2^53-1) only; floats and others refused unless lenient', () => {
    assert.equal(canonicalJson([2 ** 53 - 1, -(2 ** 53 - 1)]), '[9007199254740991,-9007199254740991]');
    for (const bad of [1.5, 2 ** 53, -(2 ** 53), NaN, Infinity, 1e21]) {
      assert.throws(() => canonicalJson({ n: bad }), /not an integer/, String(bad));
    }
    assert.throws(() => canonicalJson('\ud800'), /lone surrogate/);
    assert.equal(canonicalJson({ n: 1.5 }, { lenient: true }), '{"n":1.5}');
  });
});

describe('signing (spec appendix test vectors)', () => {
  const key = SigningKey.fromSeed(SPEC_SEED, '1');

  test('JSON signing', () => {
    assert.equal(signJson({}, 'domain', key).signatures.domain['ed25519:1'],
      'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ');
    const signed = signJson({ one: 1, two: 'Two' }, 'domain', key);
    assert.equal(signed.signatures.domain['ed25519:1'],
      'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw');
    assert.ok(verifyJson(signed, 'domain', 'ed25519:1', key.publicKey));
    assert.ok(!verifyJson({ ...signed, two: 'Three' }, 'domain', 'ed25519:1', key.publicKey));
    assert.ok(verifyJson({ ...signed, unsigned: { age: 5 } }, 'domain', 'ed25519:1', key.publicKey), 'unsigned is not covered');
  });

  test('event signing: the minimal event and the redactable one', () => {
    const minimal = {
      room_id: '!x:domain', sender: '@a:domain', origin: 'domain', origin_server_ts: 1000000, signatures: {}, hashes: {},
      type: 'X', content: {}, prev_events: [], auth_events: [], depth: 3, unsigned: { age_ts: 1000000 },
    };
    const a = hashAndSignEvent('10', minimal, 'domain', key);
    assert.equal(a.hashes.sha256, '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
    assert.equal(a.signatures.domain['ed25519:1'],
      'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg');
    assert.deepEqual(a.unsigned, { age_ts: 1000000 });

    const message = {
      content: { body: 'Here is the message content' }, event_id: '$0:domain', origin: 'domain', origin_server_ts: 1000000,
      type: 'm.room.message', room_id: '!r:domain', sender: '@u:domain', signatures: {}, unsigned: { age_ts: 1000000 },
    };
    const b = hashAndSignEvent('10', message, 'domain', key);
    assert.equal(b.hashes.sha256, 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g');
    assert.equal(b.signatures.domain['ed25519:1'],
      'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA');
    // The signature covers the redacted form: it survives redaction, the hash does not.
    const redacted = redact('10', b);
    assert.deepEqual(redacted.content, {});
    assert.ok(verifyJson(redacted, 'domain', 'ed25519:1', key.publicKey));
    assert.notEqual(b64(contentHash(redacted)), b.hashes.sha256);
  });

  test('room version 11 redacts origin and keeps what v10 strips', () => {
    const event = {
      type: 'm.room.create', room_id: '!r:domain', sender: '@u:domain', origin: 'domain', origin_server_ts: 1, depth: 1,
      prev_events: [], auth_events: [], content: { creator: '@u:domain', room_version: '11', extra: 1 }, membership: 'join',
    };
    assert.deepEqual(redact('10', event).content, { creator: '@u:domain' });
    assert.deepEqual(redact('11', event).content, event.content);
    assert.equal(redact('10', event).origin, 'domain');
    assert.equal(redact('11', event).origin, undefined);
    assert.equal(redact('11', event).membership, undefined);
    const pl = { type: 'm.room.power_levels', content: { invite: 0, ban: 50, notifications: { room: 50 } } };
    assert.deepEqual(redact('10', pl).content, { ban: 50 });
    assert.deepEqual(redact('11', pl).content, { invite: 0, ban: 50 });
    const r = { type: 'm.room.redaction', content: { redacts: '$x', reason: 'r' } };
    assert.deepEqual(redact('10', r).content, {});
    assert.deepEqual(redact('11', r).content, { redacts: '$x' });
    // An event's id follows its version's redaction: the same fields, two ids.
    assert.notEqual(eventId('10', event), eventId('11', event));
    assert.match(eventId('10', event), /^\$[A-Za-z0-9_-]{43}$/);
  });
});

describe('X-Matrix (RFC 9110 auth-params)', () => {
  test('the forms RFC 9110 allows all parse to the same parameters', () => {
    const forms = [
      'X-Matrix origin="a.example",destination="b.example",key="ed25519:1",sig="c2ln"',
      'x-matrix   ORIGIN=a.example , Destination="b.example",\tkey="ed25519:1" ,sig=c2ln',
      'X-Matrix origin=a.example,,destination=b.example,key=ed25519:1,sig="c2ln",unknown="ignored"',
      'X-Matrix origin="a.ex\\ample",destination="b.example",key="ed25519:1",sig="c2ln"',
    ];
    for (const h of forms) {
      const p = parseXMatrix(h);
      assert.deepEqual([p.origin, p.destination, p.key, p.sig], ['a.example', 'b.example', 'ed25519:1', 'c2ln'], h);
    }
    assert.equal(parseXMatrix('X-Matrix origin="a:8448",key="k",sig="s"').destination, undefined);
    assert.equal(parseXMatrix('X-Matrix origin="a\\"b",key="k",sig="s"').origin, 'a"b');
  });

  test('malformed credentials are refused', () => {
    for (const h of [undefined, 'Bearer x', 'X-Matrix', 'X-Matrix origin="a",key="k"', 'X-Matrix origin="a,key="k",sig="s"',
      'X-Matrix origin=a,origin=b,key=k,sig=s', 'X-Matrix origin=a key=k sig=s', 'X-Matrix =a,key=k,sig=s']) {
      assert.throws(() => parseXMatrix(h), undefined, String(h));
    }
  });

  test('a header signs method, uri, origin, destination and content', () => {
    const key = SigningKey.generate();
    const req = { method: 'PUT', uri: '/_matrix/federation/v1/send/1', content: { pdus: [] } };
    const header = xMatrixHeader({ origin: 'a.example', destination: 'b.example', key, ...req });
    const parsed = parseXMatrix(header);
    assert.ok(verifyXMatrix(parsed, { ...req, destination: 'b.example' }, key.publicKey));
    assert.ok(!verifyXMatrix(parsed, { ...req, destination: 'c.example' }, key.publicKey));
    assert.ok(!verifyXMatrix(parsed, { ...req, uri: '/_matrix/federation/v1/send/2' }, key.publicKey));
    assert.ok(!verifyXMatrix(parsed, { ...req, content: { pdus: [1] }, destination: 'b.example' }, key.publicKey));
  });
});

describe('two fake servers federate', () => {
  let a;
  let b;
  before(async () => {
    a = await startFakeServer();
    b = await startFakeServer();
  });
  after(async () => {
    await a.stop();
    await b.stop();
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test('version and self-signed keys are served; keys are fetched on a miss and cached', async () => {
    const v = await b.version(a.serverName);
    assert.equal(v.status, 200);
    assert.equal(typeof v.json.server.name, 'string');
    const keys = await b.keyring.keysOf(a.serverName);
    assert.deepEqual(Object.keys(keys), [a.key.keyId]);
    assert.ok(Buffer.from(keys[a.key.keyId]).equals(a.key.publicKey));
    const fetches = b.keyring.fetches;
    await b.keyring.keysOf(a.serverName);
    assert.equal(b.keyring.fetches, fetches, 'the second look-up is served from the cache');
  });

  test('signed requests are verified both ways, with the origin recorded', async () => {
    const r1 = await b.request(a.serverName, 'GET', '/_matrix/federation/v1/query/profile?user_id=' + encodeURIComponent(`@x:${a.serverName}`));
    assert.equal(r1.status, 200);
    assert.deepEqual(r1.json, { displayname: 'x' });
    assert.equal(a.requests.at(-1).origin, b.serverName);
    const r2 = await a.request(b.serverName, 'GET', `/_matrix/federation/v1/user/devices/${encodeURIComponent(`@y:${b.serverName}`)}`);
    assert.equal(r2.status, 200);
    assert.equal(b.requests.at(-1).origin, a.serverName);
  });

  test('keys are also served at the deprecated /key/v2/server/{keyId}, which Synapse 1.67 asks for', async () => {
    const r = await b.request(a.serverName, 'GET', `/_matrix/key/v2/server/${encodeURIComponent(a.key.keyId)}`, undefined, { authorization: null });
    assert.equal(r.status, 200);
    assert.equal(r.json.server_name, a.serverName);
    assert.ok(verifyJson(r.json, a.serverName, a.key.keyId, a.key.publicKey));
  });

  test('a header without destination (older servers) is accepted when signed for this server', async () => {
    const path = '/_matrix/federation/v1/user/devices/' + encodeURIComponent(`@x:${a.serverName}`);
    const header = xMatrixHeader({ origin: b.serverName, destination: a.serverName, key: b.key, method: 'GET', uri: path });
    const old = header.replace(/,destination="[^"]*"/, '');
    assert.doesNotMatch(old, /destination/);
    assert.equal((await b.request(a.serverName, 'GET', path, undefined, { authorization: old })).status, 200);
    const forOther = xMatrixHeader({ origin: b.serverName, destination: 'other.example', key: b.key, method: 'GET', uri: path })
      .replace(/,destination="[^"]*"/, '');
    assert.equal((await b.request(a.serverName, 'GET', path, undefined, { authorization: forOther })).status, 401);
  });

  test('a wrong destination, a bad signature, an unknown origin or no header get 401', async () => {
    const path = '/_matrix/federation/v1/user/devices/' + encodeURIComponent(`@x:${a.serverName}`);
    const wrongDest = await b.request(a.serverName, 'GET', path, undefined, { signAs: { destination: 'other.example' } });
    assert.equal(wrongDest.status, 401);
    assert.equal(wrongDest.json.errcode, 'M_UNAUTHORIZED');
    assert.match(a.requests.at(-1).authError, /other\.example/);

    const impostor = new SigningKey(Buffer.alloc(32, 7), b.key.keyId.slice('ed25519:'.length));
    const badSig = await b.request(a.serverName, 'GET', path, undefined, { signAs: { key: impostor } });
    assert.equal(badSig.status, 401);
    assert.match(a.requests.at(-1).authError, /not valid/);

    const body = { pdus: [], origin: b.serverName, origin_server_ts: 1 };
    const tampered = await b.request(a.serverName, 'PUT', '/_matrix/federation/v1/send/t1', body, {
      rawBody: JSON.stringify({ ...body, pdus: [{}] }),
    });
    assert.equal(tampered.status, 401, 'the signature covers the body');

    const unknown = await b.request(a.serverName, 'GET', path, undefined, { signAs: { origin: '127.0.0.1:1' } });
    assert.equal(unknown.status, 401);
    const none = await b.request(a.serverName, 'GET', path, undefined, { authorization: null });
    assert.equal(none.status, 401);
  });

  test('unknown endpoints get 404 and wrong methods 405, M_UNRECOGNIZED', async () => {
    const r404 = await b.request(a.serverName, 'GET', '/_matrix/federation/v1/nothing');
    assert.equal(r404.status, 404);
    assert.equal(r404.json.errcode, 'M_UNRECOGNIZED');
    const r405 = await b.request(a.serverName, 'POST', '/_matrix/federation/v1/version', {});
    assert.equal(r405.status, 405);
  });

  for (const roomVersion of ['10', '11']) {
    test(`room version ${roomVersion}: join through the resident, chat both ways, read its graph, leave`, async () => {
      const creator = `@alice:${a.serverName}`;
      const bob = `@bob:${b.serverName}`;
      const { roomId, room } = a.createRoom({ roomVersion, creator, name: 'kit' });

      const joined = await b.joinRoom(a.serverName, roomId, bob, { versions: [roomVersion] });
      assert.equal(joined.roomVersion, roomVersion);
      assert.equal(joined.state.length, 6, 'create, alice, power levels, join rules, history visibility, name');
      assert.ok(joined.verified >= 6);
      assert.equal(room.membership(bob), 'join');
      assert.ok(room.pdu(joined.eventId).signatures[a.serverName], 'the resident signed the join');
      assert.deepEqual(joined.response.servers_in_room.sort(), [a.serverName, b.serverName].sort());

      // Bob speaks: A accepts it into its graph after checking it.
      const said = await b.sendEvent(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'hi from b' } });
      assert.deepEqual(said.sent[a.serverName].json, { pdus: { [said.event_id]: {} } });
      assert.ok(room.has(said.event_id));
      // Alice answers: B accepts it (its prev_event is Bob's message).
      const answered = await a.sendEvent(roomId, { type: 'm.room.message', sender: creator, content: { msgtype: 'm.text', body: 'hi from a' } });
      assert.deepEqual(answered.sent[b.serverName].json, { pdus: { [answered.event_id]: {} } });
      assert.deepEqual(answered.pdu.prev_events, [said.event_id]);
      assert.ok(b.rooms.get(roomId).has(answered.event_id));

      // The read endpoints, as a caller and as the resident.
      const got = await b.getEvent(a.serverName, said.event_id);
      assert.equal(got.status, 200);
      assert.equal(eventId(roomVersion, got.json.pdus[0]), said.event_id);
      const ids = await b.stateIds(a.serverName, roomId, answered.event_id);
      assert.equal(ids.status, 200);
      assert.ok(ids.json.pdu_ids.includes(joined.eventId));
      assert.ok(ids.json.auth_chain_ids.length > 0);
      const st = await b.state(a.serverName, roomId, answered.event_id);
      assert.deepEqual(st.json.pdus.map((p) => eventId(roomVersion, p)).sort(), [...ids.json.pdu_ids].sort());
      const auth = await b.eventAuth(a.serverName, roomId, said.event_id);
      assert.deepEqual(auth.json.auth_chain.map((p) => p.type).sort(),
        ['m.room.create', 'm.room.join_rules', 'm.room.member', 'm.room.member', 'm.room.power_levels'].sort());
      const missing = await b.getMissingEvents(a.serverName, roomId, { earliest_events: [joined.eventId], latest_events: [answered.event_id], limit: 10 });
      assert.deepEqual(missing.json.events.map((p) => eventId(roomVersion, p)), [said.event_id]);
      const back = await b.backfill(a.serverName, roomId, [answered.event_id], 3);
      assert.deepEqual(back.json.pdus.map((p) => eventId(roomVersion, p)), [answered.event_id, said.event_id, joined.eventId]);

      // A server with nobody in the room reads nothing.
      const c = await startFakeServer();
      try {
        assert.equal((await c.stateIds(a.serverName, roomId, answered.event_id)).status, 403);
        assert.equal((await c.getEvent(a.serverName, said.event_id)).status, 404);
      } finally {
        await c.stop();
      }

      await b.leaveRoom(a.serverName, roomId, bob);
      assert.equal(room.membership(bob), 'leave');
    });
  }

  test('make_join refusals: unknown room, room version not offered, another server\'s user', async () => {
    const { roomId } = a.createRoom({ roomVersion: '11' });
    const unknown = await b.makeJoin(a.serverName, `!nope:${a.serverName}`, `@bob:${b.serverName}`);
    assert.equal(unknown.status, 404);
    const version = await b.makeJoin(a.serverName, roomId, `@bob:${b.serverName}`, ['10']);
    assert.equal(version.status, 400);
    assert.equal(version.json.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');
    assert.equal(version.json.room_version, '11');
    const foreign = await b.makeJoin(a.serverName, roomId, `@bob:${a.serverName}`);
    assert.equal(foreign.status, 403);
    const invite = a.createRoom({ joinRule: 'invite' });
    assert.equal((await b.makeJoin(a.serverName, invite.roomId, `@bob:${b.serverName}`)).status, 403);
  });

  test('send_join refuses a join whose id, signature or hash is wrong', async () => {
    const { roomId } = a.createRoom();
    const bob = `@bob2:${b.serverName}`;
    const made = await b.makeJoin(a.serverName, roomId, bob);
    for (const fault of ['signature', 'content-hash', 'sender-server']) {
      const sent = await b.sendJoin(a.serverName, '10', made.json.event, { broken: [fault] });
      assert.ok(sent.status === 400 || sent.status === 403, `${fault}: ${sent.status} ${JSON.stringify(sent.json)}`);
    }
    assert.equal(a.rooms.get(roomId).membership(bob), null);
  });

  test('invite v2: the invitee signs, the event joins the inviter\'s graph', async () => {
    const { roomId, room } = a.createRoom({ joinRule: 'invite' });
    const carol = `@carol:${b.serverName}`;
    const r = await a.inviteUser(roomId, `@fakeuser:${a.serverName}`, carol);
    assert.equal(r.status, 200);
    assert.equal(room.membership(carol), 'invite');
    const got = b.invites.find((i) => i.eventId === r.event_id);
    assert.ok(got, 'B recorded the invite');
    assert.equal(got.origin, a.serverName);
    assert.ok(got.inviteRoomState.some((s) => s.type === 'm.room.create'));
    // Carol may now join the invite-only room, and then reject nothing: she is in.
    await b.joinRoom(a.serverName, roomId, carol);
    assert.equal(room.membership(carol), 'join');

    const unknownVersion = a.makeEvent('10', { room_id: roomId, sender: `@fakeuser:${a.serverName}`, type: 'm.room.member', state_key: `@dave:${b.serverName}`, content: { membership: 'invite' } });
    const refused = await a.invite(b.serverName, '999', unknownVersion.pdu);
    assert.equal(refused.status, 400);
    assert.equal(refused.json.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');
  });

  test('broken PDUs in a transaction are each refused, and change nothing', async () => {
    const creator = `@alice:${a.serverName}`;
    const bob = `@bob3:${b.serverName}`;
    const { roomId, room } = a.createRoom({ creator });
    await b.joinRoom(a.serverName, roomId, bob);
    const before = room.events.size;
    const faults = ['signature', 'content-hash', 'sender-server', 'too-large', 'too-many-prev', 'too-many-auth', 'float', 'big-int'];
    const pdus = faults.map((f) => b.makeEvent('10', { room_id: roomId, sender: bob, type: 'm.room.message', content: { body: f } }, { broken: [f] }));
    const r = await b.sendTransaction(a.serverName, { pdus: pdus.map((p) => p.pdu) });
    assert.equal(r.status, 200);
    const received = a.pdusReceived.slice(-faults.length);
    faults.forEach((f, i) => assert.equal(received[i].accepted, false, `${f} was accepted`));
    assert.match(received[0].error, /signature/);
    assert.match(received[1].error, /hash/);
    assert.match(received[3].error, /65536/);
    assert.match(received[6].error, /canonical/);
    assert.equal(room.events.size, before);

    const v11 = b.makeEvent('11', { room_id: roomId, sender: bob, type: 'm.room.message', content: {} });
    assert.notEqual(v11.event_id, undefined);
    assert.throws(() => b.makeEvent('999', { room_id: roomId, sender: bob, type: 'm.room.message' }), /unknown/);
    const odd = b.makeEvent('999', { room_id: roomId, sender: bob, type: 'm.room.message' }, { broken: ['unknown-version'] });
    assert.equal(odd.room_version, '999');
  });

  test('events a peer missed: refused in /send, then fetched through get_missing_events', async () => {
    const creator = `@alice:${a.serverName}`;
    const bob = `@bob5:${b.serverName}`;
    const { roomId } = a.createRoom({ creator });
    await b.joinRoom(a.serverName, roomId, bob);
    const quiet = [1, 2, 3].map((n) => a.addEvent(roomId, { type: 'm.room.message', sender: creator, content: { body: `missed ${n}` } }));
    const latest = await a.sendEvent(roomId, { type: 'm.room.message', sender: creator, content: { body: 'latest' } });
    assert.match(latest.sent[b.serverName].json.pdus[latest.event_id].error, /missing prev_events/);
    const bRoom = b.rooms.get(roomId);
    assert.ok(!bRoom.has(latest.event_id));
    const missing = await b.getMissingEvents(a.serverName, roomId, {
      earliest_events: [...bRoom.extremities], latest_events: [latest.event_id], limit: 10,
    });
    assert.deepEqual(missing.json.events.map((p) => p.content.body), ['missed 1', 'missed 2', 'missed 3']);
    assert.deepEqual(missing.json.events.map((p) => eventId('10', p)), quiet.map((q) => q.event_id));
  });

  test('a path with bad percent-encoding gets 400, not an error in the fake', async () => {
    const r = await b.request(a.serverName, 'GET', '/_matrix/federation/v1/event/%E0%A4%A');
    assert.equal(r.status, 400);
    assert.equal(r.json.errcode, 'M_INVALID_PARAM');
  });

  test('a transaction sent twice is answered twice but processed once', async () => {
    const creator = `@alice:${a.serverName}`;
    const bob = `@bob4:${b.serverName}`;
    const { roomId } = a.createRoom({ creator });
    await b.joinRoom(a.serverName, roomId, bob);
    const { pdu, event_id: id } = b.makeEvent('10', { room_id: roomId, sender: bob, type: 'm.room.message', content: { body: 'once' } });
    const count = a.pdusReceived.length;
    const first = await b.sendTransaction(a.serverName, { pdus: [pdu], txnId: 'same' });
    const second = await b.sendTransaction(a.serverName, { pdus: [pdu], txnId: 'same' });
    assert.deepEqual(first.json, { pdus: { [id]: {} } });
    assert.deepEqual(second.json, first.json);
    assert.equal(a.pdusReceived.length, count + 1);
  });

  test('misbehaviour per route: status, delay, hang, drop, garbage, 100 MB', async () => {
    a.misbehave('version', { status: 500, times: 1 });
    assert.equal((await b.version(a.serverName)).status, 500);
    assert.equal((await b.version(a.serverName)).status, 200, 'times: 1 means once');

    a.misbehave('version', { delayMs: 400 });
    await assert.rejects(b.request(a.serverName, 'GET', '/_matrix/federation/v1/version', undefined, { timeoutMs: 100 }), /no complete answer/);
    assert.equal((await b.request(a.serverName, 'GET', '/_matrix/federation/v1/version', undefined, { timeoutMs: 5000 })).status, 200);

    a.misbehave('version', { hang: true });
    await assert.rejects(b.request(a.serverName, 'GET', '/_matrix/federation/v1/version', undefined, { timeoutMs: 300 }), /no complete answer/);

    a.misbehave('version', { drop: true });
    await assert.rejects(b.version(a.serverName), /socket hang up|closed|ECONNRESET/);

    a.misbehave('version', { garbage: true });
    const garbage = await b.version(a.serverName);
    assert.equal(garbage.status, 200);
    assert.equal(garbage.json, undefined, 'not JSON');

    for (const chunked of [false, true]) {
      a.misbehave('version', { hugeBytes: 100 << 20, chunked });
      await assert.rejects(b.request(a.serverName, 'GET', '/_matrix/federation/v1/version', undefined, { maxBytes: 1 << 20 }), /over 1048576/);
    }
    a.behave();
    assert.equal((await b.version(a.serverName)).status, 200);
    assert.ok(a.requests.filter((r) => r.misbehaved).length >= 7, 'misbehaving requests are recorded as such');
  });
});
