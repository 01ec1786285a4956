// stream-io.js -- one request or response over one libp2p stream: read all
// of it under a byte limit and a deadline, write all of it with backpressure
// and half-close. Shared by the page's transport (peer.js) and the relay's
// gateway (relay.mjs); no libp2p import, it only uses the stream's methods.

import { concatBytes, parseResponse } from './http1.js';

export class TooLargeError extends Error {
  constructor(limit) {
    super(`more than ${limit} bytes`);
    this.name = 'TooLargeError';
  }
}

export class BusyError extends Error {
  constructor() {
    super('too many bytes waiting to be answered');
    this.name = 'BusyError';
  }
}

// Bytes held by requests being read or answered, across all streams.
export function byteBudget(max) {
  let used = 0;
  return {
    take(n) {
      if (used + n > max) return false;
      used += n;
      return true;
    },
    give(n) {
      used -= n;
    },
    get used() {
      return used;
    },
  };
}

// Reads the stream to its end (the remote's half-close). Throws
// TooLargeError past maxBytes, BusyError when the budget runs out, the
// signal's reason when it fires (the stream is then reset). A failure's
// `partial` holds what had arrived. With a budget, the caller gives back
// `bytes.length` when done with the result; on failure it is given back here.
export async function readAll(stream, { maxBytes, signal, budget }) {
  const chunks = [];
  let total = 0;
  const onAbort = () => stream.abort(signal.reason ?? new Error('aborted'));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      const bytes = chunk.subarray();
      if (total + bytes.length > maxBytes) throw new TooLargeError(maxBytes);
      if (budget && !budget.take(bytes.length)) throw new BusyError();
      total += bytes.length;
      chunks.push(bytes);
    }
    if (signal?.aborted) throw signal.reason;
    return concatBytes(chunks, total);
  } catch (error) {
    budget?.give(total);
    const failure = signal?.aborted && signal.reason instanceof Error ? signal.reason : error;
    failure.partial = concatBytes(chunks, total);
    throw failure;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

const WRITE_CHUNK = 64 * 1024;

// Writes all bytes, waiting for the stream to drain when it asks to, then
// closes the writing side (the reader's end of message).
export async function writeAll(stream, bytes, { signal } = {}) {
  for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
    signal?.throwIfAborted();
    if (!stream.send(bytes.subarray(at, at + WRITE_CHUNK))) await stream.onDrain({ signal });
  }
  await stream.close({ signal });
}

// A request's answer, for the side that asked: reads while writing, so an
// early answer (a refusal sent before the whole request was read, then a
// reset) is still seen. Resolves with the response bytes, or rejects with a
// sentence-like Error.
export async function exchange(stream, request, { maxResponseBytes, signal }) {
  const reading = readAll(stream, { maxBytes: maxResponseBytes, signal });
  reading.catch(() => {}); // judged below, after the write
  let writeError = null;
  try {
    await writeAll(stream, request, { signal });
  } catch (error) {
    writeError = error;
  }
  let response;
  try {
    response = await reading;
  } catch (error) {
    // A complete response followed by a reset is a response.
    if (error.partial?.length && isCompleteResponse(error.partial)) return error.partial;
    const failure = error instanceof TooLargeError
      ? new Error(`the response is larger than ${maxResponseBytes} bytes`)
      : new Error(`the stream failed: ${(writeError ?? error).message}`);
    failure.received = error.partial?.length ?? 0; // nothing came back: the caller may try again
    throw failure;
  }
  if (!isCompleteResponse(response)) {
    const failure = new Error(writeError ? `the stream failed: ${writeError.message}` : 'the answer is not an HTTP/1.1 response');
    failure.received = response.length;
    throw failure;
  }
  return response;
}

function isCompleteResponse(bytes) {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(0, 7)) !== 'HTTP/1.') return false;
  return parseResponse(bytes) !== null;
}
