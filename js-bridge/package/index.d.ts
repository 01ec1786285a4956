// Types for the hometab package: a real Matrix homeserver (the hometab C core
// compiled to WebAssembly) inside the test process. See README.md.

export interface HomeserverOptions {
  /** The server name in user and room ids (`@alice:localhost`). Default `'localhost'`. */
  serverName?: string;
  /**
   * `'real'` (default): the wall clock, which `clock.advance()` can still move forward.
   * `'manual'`: time stands still and moves only by `clock.advance()`.
   */
  clock?: 'real' | 'manual';
  /** Where the clock starts (a Date or ms since the epoch). Default: now. */
  startTime?: Date | number;
  /**
   * Argon2id's cost for new passwords. `'fast'` (default): libsodium's minimum (1 pass, 8 KiB),
   * for tests. `'strong'`: the native server's (2 passes over 19 MiB; a few hundred ms each in wasm).
   */
  passwordHashing?: 'fast' | 'strong';
  /** Start from this database (what `snapshot()` gave, or a `.sqlite` file of the native server). */
  snapshot?: Uint8Array | ArrayBuffer;
  /** The core's rate limits (429 M_LIMIT_EXCEEDED). Default `false`. */
  rateLimit?: boolean;
  /** The largest request body accepted (413 beyond it). Default 50 MiB. */
  maxBodyBytes?: number;
  /** A compiled hometab-core.wasm, if you load it yourself. */
  wasmModule?: WebAssembly.Module | Promise<WebAssembly.Module>;
}

export interface ListenOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default `'127.0.0.1'`. */
  host?: string;
}

/** What `registerUser()` resolves with: everything a client needs to act as that user. */
export interface TestUser {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
}

export interface RegisterOptions {
  /** Default `'hometab-test-password'`. */
  password?: string;
  displayName?: string;
  deviceId?: string;
}

export interface CreateRoomOptions {
  /** Users invited and joined. */
  join?: TestUser[];
  /** Users invited only. */
  invite?: TestUser[];
  /** Anything else goes into the createRoom body: name, topic, preset, visibility, initial_state... */
  [field: string]: unknown;
}

export interface HomeserverClock {
  readonly mode: 'real' | 'manual';
  /** Milliseconds since the epoch, as the server sees them. */
  now(): number;
  /**
   * Moves the server's time forward. Long-polls whose deadline passes are answered; resolves
   * once those answers are delivered.
   */
  advance(ms: number): Promise<void>;
}

export interface HomeserverStatus {
  state: 'starting' | 'restoring' | 'ready' | 'flushing' | 'error' | 'closed';
  error: string | null;
  serverName: string;
  dbBytes: number;
  memoryBytes: number;
  parked: number;
  queued: number;
  [field: string]: unknown;
}

export interface Homeserver {
  readonly serverName: string;
  /** A URL only `hs.fetch` answers (`http://<serverName>`); hand both to the client. */
  readonly baseUrl: string;
  /** The listener's URL once `listen()` resolved, else null. */
  readonly url: string | null;
  readonly clock: HomeserverClock;
  /** A fetch function answered by this server, for SDKs that take one. Relative URLs are allowed. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** A real HTTP listener (node only). Resolves with its URL, e.g. `http://127.0.0.1:41234`. */
  listen(options?: ListenOptions | number): Promise<string>;
  registerUser(localpart: string, options?: RegisterOptions): Promise<TestUser>;
  /** Creates a room as `creator`; resolves with its room id. */
  createRoom(creator: TestUser, options?: CreateRoomOptions): Promise<string>;
  /** The database as the bytes of a `.sqlite` file. */
  snapshot(): Promise<Uint8Array>;
  /** Replaces the database with a snapshot. */
  restore(snapshot: Uint8Array | ArrayBuffer): Promise<void>;
  /** Back to the database `createHomeserver()` made (or started from). */
  reset(): Promise<void>;
  status(): HomeserverStatus;
  /** Answers waiting long-polls, stops the listener, frees the wasm instance. */
  close(): Promise<void>;
}

/** Starts a homeserver in memory, in this process. Each call gives an independent server. */
export function createHomeserver(options?: HomeserverOptions): Promise<Homeserver>;
