// screenshots.mjs -- the README's pictures, taken from the real page: a
// native hometab serving the demo, Debian's Chromium, two people chatting
// through the in-browser server. `make screenshots` runs it (through node's
// test runner, for the harness's clean-up) and writes docs/screenshots/*.png.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createRoomInUi, launch, openDemo, registerInUi, startNative, tempDir } from './lib/harness.mjs';
import { openRoomInUi, png } from './lib/chat.mjs';

const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

async function shot(page, name) {
  await page.waitForTimeout(300); // let images decode and the status settle
  await page.screenshot({ path: join(OUT, `${name}.png`) });
}

async function say(page, text, shown) {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
  await page.locator('#events li.message[data-event-id] .body', { hasText: shown }).waitFor({ timeout: 10000 });
}

async function act(page, text, action, key) {
  const item = page.locator('#events li.message').filter({ has: page.locator('.body', { hasText: text }) }).first();
  await item.hover();
  await item.locator(`[data-action="${action}"]${key ? `[data-key="${key}"]` : ''}`).click();
}

test('screenshots of the main screens', async () => {
  mkdirSync(OUT, { recursive: true });
  const native = await startNative();
  const browser = await launch();
  const ana = await openDemo(browser, native);
  await ana.setViewportSize({ width: 1100, height: 680 });
  await shot(ana, 'sign-in');

  const ben = await openDemo(browser, native);
  await registerInUi(ana, 'ana');
  await registerInUi(ben, 'ben');
  await ana.check('#create-room-public');
  await createRoomInUi(ana, 'Garden club', 'garden');
  await ana.click('#settings-button');
  await ana.fill('#settings-topic', 'seeds, soil and sunny days');
  await ana.click('#settings-save');
  await ana.fill('#invite-input', 'ben');
  await ana.click('#invite-button');
  await openRoomInUi(ben, 'Garden club');
  await ben.click('#accept-invite');
  await ben.locator('#composer-input').waitFor({ state: 'visible' });
  await say(ana, 'The tomatoes are **finally** ripe! Recipe ideas: https://example.org/tomatoes', 'finally ripe');
  const file = join(tempDir('hometab-shots-'), 'tomatoes.png');
  writeFileSync(file, png(240, 160, [214, 69, 65]));
  await ana.setInputFiles('#attach-input', file);
  await ana.locator('img.inline-image').waitFor();
  await act(ben, 'finally', 'reply');
  await say(ben, 'Soup! And a `salsa` for Saturday.', 'Soup!');
  await act(ana, 'Soup!', 'react', '😂');
  await act(ben, 'finally', 'react', '❤️');
  await ana.locator('#composer-input').pressSequentially('Saturday it is', { delay: 10 });
  await ben.locator('#typing', { hasText: 'typing' }).waitFor();
  await ben.bringToFront();
  await shot(ben, 'chat');

  await ben.click('#directory-button');
  await ben.locator('#directory-list li').first().waitFor();
  await shot(ben, 'directory');
  await ben.click('#directory-close');

  await ben.setViewportSize({ width: 390, height: 720 });
  await ben.click('#members-toggle');
  await ben.locator('#member-list li', { hasText: 'ana' }).waitFor();
  await shot(ben, 'phone-members');
  await browser.close();
  await native.stop();
});
