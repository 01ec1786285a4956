// status.js -- the status panel: what the in-browser server is doing, and
// the export / import buttons.

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

const STATE_TEXT = {
  starting: 'starting',
  restoring: 'restoring the database',
  ready: 'ready',
  flushing: 'saving',
  error: 'error',
  closed: 'stopped',
};

export class StatusPanel {
  constructor(doc) {
    this.doc = doc;
    this.$ = (id) => doc.getElementById(id);
  }

  show(status) {
    this.last = status;
    const state = this.$('status-state');
    state.textContent = STATE_TEXT[status.state] ?? status.state;
    state.dataset.state = status.state;
    this.$('status-db').textContent = `database ${bytes(status.dbBytes)}`;
    this.$('status-db').title = `wasm memory ${bytes(status.memoryBytes)}; generation ${status.generation}; ` +
      `build ${status.build}`;
    const flush = status.lastFlush;
    this.$('status-flush').textContent = flush
      ? `saved ${clock(flush.at)} in ${flush.ms.toFixed(1)} ms (${flush.chunks} chunk${flush.chunks === 1 ? '' : 's'})`
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

  fatal(message) {
    const state = this.$('status-state');
    state.textContent = 'unavailable';
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
      if (!confirm(`Replace the database in this browser with ${file.name}? ` +
        'Everything stored here now is replaced. Export it first to keep it.')) return;
      try {
        await link.importDatabase(new Uint8Array(await file.arrayBuffer()));
        this.doc.dispatchEvent(new CustomEvent('hometab-imported'));
      } catch (e) {
        alert(`Import failed: ${e.message}`);
      }
    });
  }
}
