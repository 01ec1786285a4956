// status.js -- the status bar: what the in-browser server is doing, in
// words (starting, saved, saving, offline, error), its figures one click
// away, and the export / import buttons.
//
// The pill's data-state stays the worker's own state word (tests and styles
// read it); only its text is for people. "Offline" is the chat's view: its
// sync cannot reach its server (the chat says so with a hometab-connection
// event), whatever the worker reports.

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// The pill's words, and the sentence that explains them.
function words(status, online) {
  if (status.state === 'error') return ['Error', 'The in-browser server cannot run; see the message below.'];
  if (status.saveError) return ['Not saved', `Saving to this browser's storage is failing: ${status.saveError}`];
  if (!online) return ['Offline', 'The chat cannot reach its server; it keeps trying.'];
  switch (status.state) {
  case 'starting': return ['Starting…', 'Loading the server into this browser.'];
  case 'restoring': return ['Loading…', 'Reading your data from this browser\'s storage.'];
  case 'flushing': return ['Saving…', 'Writing the latest changes to this browser\'s storage.'];
  case 'closed': return ['Stopped', 'The in-browser server has stopped; reload the page.'];
  default: return status.unsaved ? ['Saving…', 'Changes are waiting to be written.']
    : ['Saved', 'Everything is stored in this browser; it survives reloads and restarts.'];
  }
}

// The server name a .sqlite file was made under: the server part of the
// user ids written in it ("@name:server"). SQLite stores text as it is, so
// they are readable in the file's bytes, but a record's next column may
// follow without a separator ("@faye:example.orgDEVICEID"): every match
// also counts for the shorter matches it starts with, and the name seen
// most often (the shortest, on a tie) wins. null if none.
export function serverNameOf(bytesOfFile) {
  const text = new TextDecoder('latin1').decode(bytesOfFile);
  const counts = new Map();
  for (const m of text.matchAll(/@[a-z0-9._=\-/+]{1,255}:([a-zA-Z0-9.-]+(?::\d{1,5})?|\[[0-9a-fA-F:.]+\](?::\d{1,5})?)/g)) {
    counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  const names = [...counts.keys()];
  let best = null;
  let bestScore = 0;
  for (const name of names) {
    const score = names.filter((other) => other.startsWith(name)).reduce((n, other) => n + counts.get(other), 0);
    if (score > bestScore || (score === bestScore && name.length < best.length)) [best, bestScore] = [name, score];
  }
  return best;
}

export class StatusPanel {
  constructor(doc) {
    this.doc = doc;
    this.$ = (id) => doc.getElementById(id);
    this.online = true;
    this.last = null;
    const pill = this.$('status-state');
    pill.addEventListener('click', () => {
      const details = this.$('status-details');
      details.hidden = !details.hidden;
      pill.setAttribute('aria-expanded', String(!details.hidden));
    });
    doc.addEventListener('hometab-connection', (e) => {
      this.online = e.detail.online;
      if (this.last) this.show(this.last);
    });
  }

  show(status) {
    this.last = status;
    const [word, sentence] = words(status, this.online);
    const state = this.$('status-state');
    state.textContent = word;
    state.dataset.state = status.state;
    state.dataset.words = word.replace('…', '').toLowerCase();
    this.$('status-summary').textContent = sentence;
    this.$('status-name').textContent = status.serverName ?? location.host;
    this.showPeers(status);
    this.$('status-db').textContent = `${bytes(status.dbBytes)} (memory ${bytes(status.memoryBytes)})`;
    this.$('status-build').textContent = `${status.build} · generation ${status.generation}`;
    const flush = status.lastFlush;
    this.$('status-flush').textContent = flush
      ? `${clock(flush.at)}, ${flush.ms.toFixed(1)} ms (${flush.chunks} chunk${flush.chunks === 1 ? '' : 's'})`
      : 'not saved yet';
    const error = this.$('status-error');
    if (status.state === 'error') {
      error.hidden = false;
      error.textContent = `The in-browser server cannot run: ${status.error}. ` +
        'The data stored in this browser has been kept as it is; nothing was deleted. ' +
        'You can export it, or import a database you saved earlier.';
    } else {
      error.hidden = true;
    }
    const warning = this.$('status-warning');
    warning.hidden = !status.saveError;
    warning.textContent = status.saveError ? `Saving is failing: ${status.saveError}` : '';
  }

  // p2p mode: the peers the transport reaches and what waits in the outbox.
  showPeers(status) {
    const row = this.$('status-p2p');
    if (!row) return;
    row.hidden = !status.p2p;
    if (!status.p2p) return;
    const transport = status.transport ?? {};
    const peers = transport.peers ?? [];
    const list = this.$('status-peers');
    list.replaceChildren(...peers.map((p) => {
      const li = this.doc.createElement('li');
      li.textContent = `${p.name.slice(0, 12)}… ${p.direct ? 'direct (WebRTC)' : 'relayed'}`;
      li.title = p.name;
      li.dataset.peer = p.name;
      li.dataset.via = p.direct ? 'direct' : 'relay';
      return li;
    }));
    const relay = transport.name ? (transport.relayConnected ? 'connected to the relay' : 'relay unreachable')
      : 'no page carries the transport';
    this.$('status-transport').textContent = `${relay}; ${peers.length} peer${peers.length === 1 ? '' : 's'}`;
    const waiting = this.$('status-outbox');
    waiting.textContent = status.outbox ? `${status.outbox} waiting to be delivered` : 'nothing waiting';
    waiting.dataset.count = String(status.outbox ?? 0);
  }

  // The state of this page's own part of the transport (web/p2p.js).
  showTransport({ state, error }) {
    const el = this.$('status-carrier');
    if (!el) return;
    el.dataset.state = state;
    el.textContent = { waiting: 'another tab carries the transport', starting: 'starting the transport…',
      ready: 'this tab carries the transport', offline: `transport offline: ${error ?? 'retrying'}`,
      stopped: 'transport stopped' }[state] ?? state;
  }

  fatal(message) {
    const state = this.$('status-state');
    state.textContent = 'Unavailable';
    state.dataset.state = 'error';
    const error = this.$('status-error');
    error.hidden = false;
    error.textContent = message;
  }

  attach(link) {
    this.$('export-button').addEventListener('click', async () => {
      try {
        const data = await link.exportDatabase();
        const url = URL.createObjectURL(new Blob([data], { type: 'application/vnd.sqlite3' }));
        const a = this.doc.createElement('a');
        const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 16);
        a.href = url;
        a.download = `hometab-${stamp}.sqlite`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (e) {
        alert(`Export failed: ${e.message}`);
      }
    });
    const input = this.$('import-input');
    input.addEventListener('change', async () => {
      const file = input.files[0];
      input.value = '';
      if (!file) return;
      const bytesOfFile = new Uint8Array(await file.arrayBuffer());
      if (!confirm(this.importQuestion(file.name, serverNameOf(bytesOfFile)))) return;
      try {
        await link.importDatabase(bytesOfFile);
        this.doc.dispatchEvent(new CustomEvent('hometab-imported'));
      } catch (e) {
        alert(`Import failed: ${e.message}`);
      }
    });
  }

  // The question asked before an import; it warns when the file's accounts
  // belong to another server name, since nobody could sign in to them here.
  importQuestion(fileName, fileServer) {
    const here = this.last?.serverName ?? location.host; // in p2p mode, the key name
    const replace = `Replace the database in this browser with ${fileName}? ` +
      'Everything stored here now is replaced. Export it first to keep it.';
    if (!fileServer || fileServer === here) return replace;
    if (this.last?.p2p) return `${replace}\n\nThis server then takes the file's identity (${fileServer}).`;
    return `Warning: ${fileName} was made by a server named “${fileServer}”, and this one is named ` +
      `“${here}”. Its accounts would be @name:${fileServer}, and nobody can sign in to them here ` +
      `(signing in as “name” means @name:${here}).\n\n` +
      `To use them, open this page at http://${fileServer}/ if that is an address hometab serves, or run ` +
      `the native server on the file: ./hometab --db ${fileName} --server-name ${fileServer}\n\n` +
      `Import anyway? ${replace}`;
  }
}
