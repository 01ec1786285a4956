// chat.mjs -- steps and data shared by the chat-feature tests and the
// screenshot script: a real PNG made here, and finding rooms in the list.

import { crc32, deflateSync } from 'node:zlib';

// A PNG of width x height pixels in one colour (RGB), encoded here: the
// upload tests need a real image the browser decodes, not a fixture file.
export function png(width, height, [r, g, b] = [11, 122, 111]) {
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(width).fill([r, g, b]).flat())]);
  const pixels = Buffer.concat(Array(height).fill(row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)), chunk('IEND', Buffer.alloc(0))]);
}

export const PNG_8x6 = png(8, 6);

export const roomEntry = (page, name) => page.locator('#room-list li', { hasText: name });

export async function openRoomInUi(page, name) {
  await roomEntry(page, name).first().locator('button').click({ timeout: 10000 });
  await page.locator('#room-name', { hasText: name }).waitFor({ timeout: 10000 });
}
