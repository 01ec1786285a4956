// clock.js -- the homeserver's clock, which a test can move by hand.
//
// The C core owns no clock: the host passes the time into every call
// (src/hometab.h). So a test controls time completely by controlling what the
// bridge passes -- event timestamps, long-poll deadlines, typing expiry and
// presence time-outs all follow this object, and nothing else in the process
// is touched (unlike fake timers that replace the global setTimeout, which
// would also freeze the test runner and the SDK under test).
//
// Two modes. 'real': the wall clock plus whatever advance() added, and
// deadlines fire on their own. 'manual': time stands still at its start and
// moves only by advance(); deadlines fire only then. The bridge sees one
// interface: now() and schedule(atMs, fn) -> cancel.

export class Clock {
  #manual;
  #time;          // manual: the time; real: the offset added to Date.now()
  #timers = [];   // { at, fn }, earliest first
  #realTimer = null;

  constructor({ mode = 'real', startTime } = {}) {
    if (mode !== 'real' && mode !== 'manual') {
      throw new TypeError(`clock must be 'real' or 'manual', not ${JSON.stringify(mode)}`);
    }
    this.#manual = mode === 'manual';
    const start = startTime === undefined ? Date.now() : Number(startTime); // a Date or ms
    if (!Number.isFinite(start) || start < 0) throw new RangeError('startTime must be a time after 1970');
    this.#time = this.#manual ? start : start - Date.now();
  }

  get mode() {
    return this.#manual ? 'manual' : 'real';
  }

  // Milliseconds since the epoch, as the server sees them.
  now() {
    return this.#manual ? this.#time : Date.now() + this.#time;
  }

  // Moves time forward by `ms`. Every long-poll whose deadline this passes is
  // answered; resolves once those answers have been delivered.
  advance(ms) {
    if (!Number.isFinite(ms) || ms < 0) {
      return Promise.reject(new RangeError(`advance() takes a number of milliseconds >= 0, not ${ms}`));
    }
    this.#time += ms;
    this.#fireDue();
    // The woken requests were answered synchronously; their promises settle
    // in microtasks, which all run before this macrotask.
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  // For the bridge: runs fn once now() reaches `at`. Returns a cancel function.
  schedule(at, fn) {
    const timer = { at, fn };
    const i = this.#timers.findIndex((t) => t.at > at);
    this.#timers.splice(i < 0 ? this.#timers.length : i, 0, timer);
    this.#arm();
    return () => {
      const k = this.#timers.indexOf(timer);
      if (k >= 0) this.#timers.splice(k, 1);
      if (k === 0) this.#arm();
    };
  }

  // Stops the one real timer (the server is closing).
  dispose() {
    clearTimeout(this.#realTimer);
    this.#realTimer = null;
    this.#timers = [];
  }

  #fireDue() {
    const now = this.now();
    while (this.#timers.length && this.#timers[0].at <= now) this.#timers.shift().fn();
    this.#arm();
  }

  // Real mode: one wall-clock timer, for the earliest deadline.
  #arm() {
    clearTimeout(this.#realTimer);
    this.#realTimer = null;
    if (this.#manual || !this.#timers.length) return;
    const wait = Math.min(Math.max(0, this.#timers[0].at - this.now()), 2 ** 31 - 1);
    this.#realTimer = setTimeout(() => this.#fireDue(), wait);
  }
}
