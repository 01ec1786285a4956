// chat-layout.test.mjs -- the demo in a phone-sized window: the room list,
// the open room, and the members pane (with inviting) each reachable.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { createRoomInUi, launch, openDemo, registerInUi, startNative } from './lib/harness.mjs';

let native;
let browser;
let page;

before(async () => {
  native = await startNative();
  browser = await launch();
  const other = await openDemo(browser, native);
  await registerInUi(other, 'dana');
  await other.close();
  page = await openDemo(browser, native);
  await page.setViewportSize({ width: 390, height: 780 });
  await registerInUi(page, 'erik');
});

after(async () => {
  await browser.close();
  await native.stop();
});

test('a narrow window shows one pane at a time, and members and invites are a tap away', async () => {
  await createRoomInUi(page, 'Pocket room');
  assert.ok(await page.locator('.rooms-pane').isHidden(), 'the open room takes the whole width');
  assert.ok(await page.locator('#member-list').isHidden(), 'members are folded away');
  await page.click('#members-toggle');
  await page.locator('#member-list li', { hasText: 'erik' }).waitFor();
  const box = await page.locator('#members-pane').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, `the members pane fits the window: ${JSON.stringify(box)}`);
  await page.fill('#invite-input', 'dana');
  await page.click('#invite-button');
  await page.locator('#member-list li', { hasText: 'dana' }).locator('.tag', { hasText: 'invited' })
    .waitFor({ timeout: 10000 });
  await page.click('#members-close');
  assert.ok(await page.locator('#member-list').isHidden());
  await page.click('#rooms-back');
  await page.locator('#room-list li', { hasText: 'Pocket room' }).waitFor();
  assert.ok(await page.locator('#room-pane').isHidden());
  await page.locator('#room-list li', { hasText: 'Pocket room' }).locator('button').click();
  assert.ok(await page.locator('#composer-input').isVisible());
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `nothing sticks out sideways (${width} px)`);
});
