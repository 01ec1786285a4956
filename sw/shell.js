// shell.js -- the app shell: one build's web root, kept in Cache Storage.
//
// `make www` writes version.json into the web root: the build's id and every
// other file of the web root with its SHA-256, as a Subresource Integrity
// string. The worker of build B fills the cache 'hometab-shell-B' with exactly
// those bytes while it installs (fetch checks each file against its hash), and
// answers only from that cache, so what one worker serves -- a page, its
// scripts, the wasm -- is always of one build, and stays servable with no
// network at all.
//
// The one decision to know: a cache is filled whole or not at all. If the
// server has another build by the time the list is read, or any file is
// missing or does not match its hash, install() throws and deletes what it had
// put: the worker is then refused and the build that is running stays.
// Every answer from the cache carries X-Hometab-Build: <build>, so a page (and
// a test) can tell the cache's answers from the network's.

const PREFIX = 'hometab-shell-';
const VERSION = '/version.json';

export const BUILD_HEADER = 'X-Hometab-Build';

// A folder means its index.html, as the native server has it.
function pathOf(url) {
  return url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname;
}

export class Shell {
  #paths = null; // the paths in the cache, once read: a Set
  #loads = 0;

  constructor(build) {
    this.build = build;
    this.name = `${PREFIX}${build}`;
  }

  // Fills this build's cache from the network, all of it, or throws.
  async install() {
    const listing = await fetch(VERSION, { cache: 'no-store' });
    if (!listing.ok) throw new Error(`${VERSION} cannot be read (HTTP ${listing.status})`);
    const text = await listing.text();
    const version = JSON.parse(text);
    if (version.build !== this.build) {
      throw new Error(`the server has build ${version.build} now, not ${this.build}`);
    }
    if (!version.files || typeof version.files !== 'object') throw new Error(`${VERSION} lists no files`);
    // Another worker of this build (with other options in its URL) may have
    // filled it already: version.json goes in last, once every file is in.
    const paths = [...Object.keys(version.files).map((path) => `/${path}`), VERSION];
    if (!await this.#holds(paths)) await this.#fill(version.files, listing, text);
    await this.load();
  }

  async #fill(files, listing, text) {
    await caches.delete(this.name); // what an interrupted install left
    const cache = await caches.open(this.name);
    try {
      await Promise.all(Object.entries(files).map(async ([path, integrity]) => {
        const url = `/${path}`;
        const response = await fetch(url, { cache: 'no-store', integrity });
        if (!response.ok) throw new Error(`${url} cannot be read (HTTP ${response.status})`);
        await cache.put(url, this.#marked(response, await response.arrayBuffer()));
      }));
      await cache.put(VERSION, this.#marked(listing, text));
    } catch (e) {
      await caches.delete(this.name);
      throw e;
    }
  }

  // Reads which paths the cache holds, for covers(); the last call to
  // start wins.
  async load() {
    const call = ++this.#loads;
    const paths = await this.#cachedPaths();
    if (call === this.#loads) this.#paths = paths;
  }

  // Whether a GET of this URL is the cache's to answer: a path it holds, or
  // any path while load() has not finished (the cache then answers or
  // passes it to the network).
  covers(url) {
    return this.#paths?.has(pathOf(url)) ?? true;
  }

  // The cached answer for a URL of this origin (the query is ignored), or
  // undefined.
  match(url) {
    return caches.match(pathOf(url), { cacheName: this.name, ignoreSearch: true });
  }

  async bytes(path) {
    const response = await caches.match(path, { cacheName: this.name });
    return response ? response.arrayBuffer() : null;
  }

  // Deletes the caches of every other build.
  async dropOthers() {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== this.name) await caches.delete(name);
    }
  }

  async #cachedPaths() {
    if (!await caches.has(this.name)) return new Set();
    const cache = await caches.open(this.name);
    return new Set((await cache.keys()).map((request) => new URL(request.url).pathname));
  }

  async #holds(paths) {
    const have = await this.#cachedPaths();
    return paths.every((path) => have.has(path));
  }

  #marked(response, body) {
    const headers = new Headers(response.headers);
    headers.set(BUILD_HEADER, this.build);
    return new Response(body, { status: response.status, statusText: response.statusText, headers });
  }
}
