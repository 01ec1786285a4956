// chat-features.test.mjs -- what a chat user expects of the demo, against
// the in-browser server: two tabs (alice, bob) of one browser share it.
// Images and files, replies, reactions, edits, deletions, formatted
// messages and what the page does with hostile HTML, leaving, the room
// directory, direct messages, bare #aliases, settings, receipts, presence,
// errors shown where the user acted, and the status bar's words.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { assertAllFromWorker, createRoomInUi, launch, messageLocator, openDemo, registerInUi,
  sendInUi, startNative, tempDir } from './lib/harness.mjs';
import { PNG_8x6, openRoomInUi, roomEntry } from './lib/chat.mjs';

let native;
let browser;
let alice;
let bob;
const dir = tempDir('hometab-features-');

before(async () => {
  native = await startNative();
  browser = await launch();
  alice = await openDemo(browser, native);
  bob = await openDemo(browser, native);
  await registerInUi(alice, 'alice');
  await registerInUi(bob, 'bob');
  await createRoomInUi(alice, 'Studio');
  await alice.fill('#invite-input', 'bob');
  await alice.click('#invite-button');
  await openRoomInUi(bob, 'Studio');
  await bob.click('#accept-invite');
  await alice.locator('#events li.notice', { hasText: 'bob joined' }).waitFor({ timeout: 10000 });
  await openRoomInUi(bob, 'Studio');
});

after(async () => {
  await browser.close();
  await native.stop();
});

const line = (page, text) => page.locator('#events li.message')
  .filter({ has: page.locator('.body', { hasText: text }) });

test('an image is uploaded with progress and shown inline on both sides', async () => {
  const file = join(dir, 'dot.png');
  writeFileSync(file, PNG_8x6);
  await alice.setInputFiles('#attach-input', file);
  for (const page of [alice, bob]) {
    const selector = '#events li.message[data-event-id] img.inline-image[alt="dot.png"]';
    await page.locator(selector).waitFor({ timeout: 15000 });
    // By selector, not by handle: a redraw may replace the element while it loads.
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)]
      .some((el) => el.complete && el.naturalWidth === 8 && el.naturalHeight === 6), selector, { timeout: 10000 });
  }
  assert.ok(await alice.locator('#upload-progress').isHidden(), 'the progress bar leaves once sent');
});

test('a file is offered for download with the bytes that were sent', async () => {
  const file = join(dir, 'notes.txt');
  const bytes = Buffer.from('minutes of the meeting\n'.repeat(100));
  writeFileSync(file, bytes);
  await alice.setInputFiles('#attach-input', file);
  const chip = line(bob, 'notes.txt').locator('.file-chip');
  await chip.waitFor({ timeout: 15000 });
  assert.match(await chip.textContent(), /notes\.txt\s+2 KB/);
  const [download] = await Promise.all([bob.waitForEvent('download'), chip.click()]);
  assert.equal(download.suggestedFilename(), 'notes.txt');
  const saved = join(dir, 'downloaded.txt');
  await download.saveAs(saved);
  assert.deepEqual(readFileSync(saved), bytes);
});

test('a reply quotes the message it answers', async () => {
  await sendInUi(alice, 'shall we paint the door blue?');
  const original = line(bob, 'shall we paint the door blue?');
  await original.waitFor({ timeout: 10000 });
  await original.hover();
  await original.locator('[data-action="reply"]').click();
  assert.match(await bob.locator('#composer-context-text').textContent(), /Replying to alice/);
  await sendInUi(bob, 'green would be nicer');
  for (const page of [alice, bob]) {
    const reply = line(page, 'green would be nicer');
    await reply.waitFor({ timeout: 10000 });
    assert.equal(await reply.locator('.reply-sender').textContent(), 'alice');
    assert.equal(await reply.locator('.reply-text').textContent(), 'shall we paint the door blue?');
  }
});

test('a reaction shows with its count, and a second click takes it back', async () => {
  const target = line(alice, 'green would be nicer');
  await target.hover();
  await target.locator('[data-action="react"][data-key="👍"]').click();
  const chip = line(bob, 'green would be nicer').locator('.reaction', { hasText: '👍' });
  await chip.waitFor({ timeout: 10000 });
  assert.equal(await chip.locator('.count').textContent(), '1');
  await chip.click(); // bob agrees
  await line(alice, 'green would be nicer').locator('.reaction.mine .count', { hasText: '2' }).waitFor({ timeout: 10000 });
  await line(alice, 'green would be nicer').locator('.reaction', { hasText: '👍' }).click(); // alice takes hers back
  await line(bob, 'green would be nicer').locator('.reaction.mine .count', { hasText: '1' }).waitFor({ timeout: 10000 });
});

test('an edit replaces the text everywhere and says so', async () => {
  await sendInUi(alice, 'see you at 5');
  const mine = line(alice, 'see you at 5');
  await mine.hover();
  await mine.locator('[data-action="edit"]').click();
  assert.equal(await alice.inputValue('#composer-input'), 'see you at 5');
  await alice.fill('#composer-input', 'see you at 6');
  await alice.press('#composer-input', 'Enter');
  for (const page of [alice, bob]) {
    const edited = line(page, 'see you at 6');
    await edited.locator('.edited').waitFor({ timeout: 10000 });
    assert.equal(await line(page, 'see you at 5').count(), 0);
    assert.equal(await page.locator('#events li.message', { hasText: '* see you at 6' }).count(), 0,
      'the edit event itself is not shown as a message');
  }
});

test('deleting one\'s own message leaves "Message deleted" for everyone', async () => {
  await sendInUi(alice, 'oops, wrong room');
  await line(bob, 'oops, wrong room').waitFor({ timeout: 10000 });
  assert.equal(await line(bob, 'oops, wrong room').locator('[data-action="delete"]').count(), 0,
    'no delete button on other people\'s messages');
  const mine = line(alice, 'oops, wrong room');
  const eventId = await mine.getAttribute('data-event-id');
  await mine.hover();
  await mine.locator('[data-action="delete"]').click(); // the harness accepts the confirm()
  for (const page of [alice, bob]) {
    const deleted = page.locator(`#events li.message.deleted[data-event-id="${eventId}"]`);
    await deleted.waitFor({ timeout: 10000 });
    assert.equal(await deleted.locator('.body').textContent(), 'Message deleted');
  }
});

test('markdown goes out as formatted_body and links are clickable', async () => {
  await alice.fill('#composer-input', 'this is **bold** and `code`, see https://example.org/x');
  await alice.press('#composer-input', 'Enter');
  const got = line(bob, 'this is bold and code');
  await got.waitFor({ timeout: 10000 });
  assert.equal(await got.locator('.body strong').textContent(), 'bold');
  assert.equal(await got.locator('.body code').textContent(), 'code');
  const link = got.locator('.body a');
  assert.equal(await link.getAttribute('href'), 'https://example.org/x');
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.match(await link.getAttribute('rel'), /noopener/);
});

test('hostile HTML from another client is shown safely', async () => {
  // bob's "client" sends HTML the page must not run.
  const roomId = await bob.evaluate(() => globalThis.hometabDemo.chat.current());
  await bob.evaluate(async (room) => {
    const hostile = '<p>hi <img src=x onerror="window.pwned=1"><script>window.pwned=2</script>' +
      '<a href="javascript:window.pwned=3">click</a> <b onclick="window.pwned=4">there</b>' +
      '<iframe src="https://example.org"></iframe><style>body{display:none}</style></p>';
    await globalThis.hometabDemo.chat.client.send(room, 'm.room.message',
      { msgtype: 'm.text', body: 'hi click there', format: 'org.matrix.custom.html', formatted_body: hostile });
  }, roomId);
  const got = line(alice, 'hi click there');
  await got.waitFor({ timeout: 10000 });
  const body = got.locator('.body');
  assert.equal(await body.locator('img, script, iframe, style').count(), 0);
  assert.equal(await body.locator('[onclick], [onerror]').count(), 0);
  assert.equal(await body.locator('a').getAttribute('href'), null, 'javascript: links lose their href');
  assert.equal(await body.locator('b').textContent(), 'there');
  await got.locator('a').click();
  assert.equal(await alice.evaluate(() => globalThis.pwned ?? null), null);
});

test('read receipts show who has seen a message', async () => {
  await sendInUi(alice, 'did you read this?');
  await line(bob, 'did you read this?').waitFor({ timeout: 10000 });
  await line(alice, 'did you read this?').locator('.receipts', { hasText: 'Seen by bob' })
    .waitFor({ timeout: 10000 });
});

test('members show their presence', async () => {
  const entry = alice.locator('#member-list li[data-user-id^="@bob:"]');
  await alice.waitForFunction(() => document.querySelector('#member-list li[data-user-id^="@bob:"]')
    ?.dataset.presence === 'online', null, { timeout: 15000 });
  assert.equal(await entry.locator('.presence.online').count(), 1);
});

test('a public room is found in the directory, by search, and joined from there', async () => {
  await alice.check('#create-room-public');
  await createRoomInUi(alice, 'Pottery club', 'pottery');
  await alice.fill('#create-room-name', '');
  await bob.click('#directory-button');
  const list = bob.locator('#directory-list');
  await list.locator('li', { hasText: 'Pottery club' }).waitFor({ timeout: 10000 });
  await bob.fill('#directory-search', 'no such thing');
  await bob.click('#directory-search-button');
  await bob.locator('#directory-message', { hasText: 'No public rooms match.' }).waitFor();
  await bob.fill('#directory-search', 'potter');
  await bob.click('#directory-search-button');
  const entry = list.locator('li', { hasText: 'Pottery club' });
  await entry.waitFor();
  assert.match(await entry.textContent(), /#pottery:/);
  await entry.locator('button').click();
  await bob.locator('#room-name', { hasText: 'Pottery club' }).waitFor({ timeout: 10000 });
  assert.ok(!(await bob.locator('#directory-dialog').evaluate((d) => d.open)));
});

test('a bare #alias joins the room of that alias on this server', async () => {
  await createRoomInUi(bob, 'Quiet corner', 'quiet'); // bob looks elsewhere now
  await bob.check('#create-room-public').catch(() => {});
  await alice.check('#create-room-public');
  await createRoomInUi(alice, 'Bakery', 'bakery');
  await bob.fill('#join-room-input', '#bakery');
  await bob.click('#join-room-button');
  await bob.locator('#room-name', { hasText: 'Bakery' }).waitFor({ timeout: 10000 });
});

test('a failed join or create says why next to the form, even with no room open', async () => {
  const fresh = await openDemo(browser, native);
  await registerInUi(fresh, 'carol');
  assert.ok(await fresh.locator('#room-pane').isHidden(), 'carol has no room open');
  await fresh.fill('#join-room-input', '#nowhere');
  await fresh.click('#join-room-button');
  const joinMessage = fresh.locator('#join-room-message');
  await joinMessage.filter({ hasText: /Could not join #nowhere:.+/ }).waitFor({ timeout: 10000 });
  await fresh.fill('#create-room-name', 'Another bakery');
  await fresh.fill('#create-room-alias', 'bakery');
  await fresh.click('#create-room-button');
  await fresh.locator('#create-room-message').filter({ hasText: /Could not create the room: .*alias/i })
    .waitFor({ timeout: 10000 });
  await fresh.fill('#dm-input', 'nobody-here');
  await fresh.click('#dm-button');
  await fresh.locator('#dm-message').filter({ hasText: /no @nobody-here:.* on this server/ }).waitFor({ timeout: 10000 });
  await fresh.close();
});

test('a direct message invites the other person into a room marked direct', async () => {
  await alice.fill('#dm-input', 'bob');
  await alice.click('#dm-button');
  await alice.locator('#room-list li.active .tag.direct').waitFor({ timeout: 10000 });
  const bobEntry = bob.locator('#room-list li', { has: bob.locator('.tag.direct') });
  await bobEntry.locator('.tag', { hasText: 'invited' }).waitFor({ timeout: 10000 });
  assert.match(await bobEntry.locator('.room-name').textContent(), /alice/);
  await bobEntry.locator('button').click();
  await bob.click('#accept-invite');
  await sendInUi(bob, 'a private word');
  await messageLocator(alice, 'a private word').waitFor({ timeout: 10000 });
  // m.direct names the room, so a second "Message bob" opens the same room.
  const roomId = await alice.evaluate(() => globalThis.hometabDemo.chat.current());
  await openRoomInUi(alice, 'Studio');
  await alice.fill('#dm-input', '@bob');
  await alice.click('#dm-button');
  await alice.waitForFunction((id) => globalThis.hometabDemo.chat.current() === id, roomId);
});

test('room name, topic and one\'s own display name are changed in dialogs', async () => {
  await openRoomInUi(alice, 'Studio');
  await alice.click('#settings-button');
  await alice.fill('#settings-topic', 'paint and pottery');
  await alice.fill('#settings-name', 'Studio 2');
  await alice.click('#settings-save');
  await bob.locator('#room-list li', { hasText: 'Studio 2' }).waitFor({ timeout: 10000 });
  await openRoomInUi(bob, 'Studio 2');
  await bob.locator('#room-topic', { hasText: 'paint and pottery' }).waitFor({ timeout: 10000 });
  await bob.click('#profile-button');
  await bob.locator('#profile-name').waitFor();
  await bob.waitForFunction(() => document.getElementById('profile-name').value === 'bob');
  await bob.fill('#profile-name', 'Bob the builder');
  await bob.click('#profile-save');
  await alice.locator('#member-list li', { hasText: 'Bob the builder' }).waitFor({ timeout: 10000 });
  await alice.locator('#events li.notice', { hasText: 'bob is now called Bob the builder' }).waitFor();
});

test('leaving a room takes it out of the list', async () => {
  await openRoomInUi(bob, 'Pottery club');
  await bob.click('#leave-button');
  await roomEntry(bob, 'Pottery club').waitFor({ state: 'detached', timeout: 10000 });
  await alice.locator('#room-list li', { hasText: 'Pottery club' }).locator('button').click();
  await alice.locator('#events li.notice', { hasText: /Bob the builder left|bob left/ }).waitFor({ timeout: 10000 });
});

test('a mention in a hidden tab raises a browser notification (when allowed)', async () => {
  await browser.context.grantPermissions(['notifications'], { origin: native.url });
  await openRoomInUi(alice, 'Studio 2');
  await openRoomInUi(bob, 'Studio 2');
  await bob.click('#profile-button');
  await bob.check('#profile-notify');
  await bob.click('#profile-save');
  await bob.locator('#profile-dialog').evaluate((d) => d.open ? new Promise((r) => d.addEventListener('close', r)) : null);
  // Headless Chromium never hides a tab: make this one say it is hidden,
  // and record the notifications the page creates.
  await bob.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
    const Real = window.Notification;
    window.shown = [];
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.shown.push({ title, body: options?.body });
      }
    };
    Object.defineProperty(window.Notification, 'permission', { get: () => Real.permission });
  });
  await sendInUi(alice, 'nothing for anyone');
  await sendInUi(alice, 'bob, are you coming?');
  await bob.waitForFunction(() => window.shown.length > 0, null, { timeout: 10000 });
  const shown = await bob.evaluate(() => window.shown);
  assert.deepEqual(shown, [{ title: 'alice in Studio 2', body: 'bob, are you coming?' }]);
});

test('the status bar says what happens in words, with the details one click away', async () => {
  const pill = alice.locator('#status-state');
  await alice.waitForFunction(() => document.getElementById('status-state').textContent === 'Saved', null,
    { timeout: 10000 });
  assert.equal(await pill.getAttribute('data-state'), 'ready');
  assert.ok(await alice.locator('#status-details').isHidden());
  await pill.click();
  assert.ok(await alice.locator('#status-details').isVisible());
  assert.match(await alice.locator('#status-db').textContent(), /\d+(\.\d+)? (KB|MB)/);
  assert.equal(await alice.locator('#status-name').textContent(), new URL(native.url).host);
  assert.match(await alice.locator('#status-flush').textContent(), /\d+:\d+/);
  await pill.click();
  assert.ok(await alice.locator('#status-details').isHidden());
});

test('all of it was answered in the browser', () => {
  assertAllFromWorker(alice);
  assertAllFromWorker(bob);
  assert.deepEqual(native.matrixRequests(), []);
  assert.deepEqual(browser.errors, []);
});
