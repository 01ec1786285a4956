// rest.mjs -- helpers for the client-rest API tests (typing, receipts,
// presence, push rules): small wrappers that assert success.
//
//   await typing(srv, who, roomId, true, 30000);
//   await receipt(srv, who, roomId, eventId, 'm.read', { thread_id: 'main' });
//   const entry = joinedEntry(syncResponse, roomId);
//   const ev = ephemeral(entry, 'm.typing');

import assert from 'node:assert/strict';

import { V3, seg } from './matrix.mjs';

export function typingRaw(srv, who, roomId, typing, timeout, userId = who.user_id) {
  const body = timeout === undefined ? { typing } : { typing, timeout };
  return srv.fetch(`${V3}/rooms/${seg(roomId)}/typing/${seg(userId)}`, { method: 'PUT', body, token: who.token });
}

export async function typing(srv, who, roomId, on, timeout) {
  const res = await typingRaw(srv, who, roomId, on, timeout);
  assert.equal(res.status, 200, `typing: ${res.text}`);
}

export function receiptRaw(srv, who, roomId, eventId, type = 'm.read', body = {}) {
  return srv.fetch(`${V3}/rooms/${seg(roomId)}/receipt/${seg(type)}/${seg(eventId)}`, {
    method: 'POST', body, token: who.token,
  });
}

export async function receipt(srv, who, roomId, eventId, type = 'm.read', body = {}) {
  const res = await receiptRaw(srv, who, roomId, eventId, type, body);
  assert.equal(res.status, 200, `receipt: ${res.text}`);
}

// The ephemeral event of a type in a joined room's sync entry, or undefined.
export function ephemeral(entry, type) {
  return entry?.ephemeral?.events?.find((e) => e.type === type);
}

// Milliseconds a promise took, with its value.
export async function timed(promise) {
  const start = Date.now();
  const value = await promise;
  return { value, ms: Date.now() - start };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
