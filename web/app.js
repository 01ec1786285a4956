// app.js -- the demo page: start the in-browser server, then the chat.
//
// The page registers hometab's service worker and waits until the worker
// controls it; only then does it make its first fetch('/_matrix/...'), so
// every Matrix request of this page is answered inside the browser and none
// reaches the native server that served these files.
//
// Peer-to-peer mode (web/p2p.js): opening the page with ?p2p=1 turns it on
// for this browser (remembered; ?p2p=0 turns it off). The server is then
// named by its key and shares rooms with other browsers through the relay.

import { ChatApp } from './chat.js';
import { startP2p, wantsP2p } from './p2p.js';
import { StatusPanel } from './status.js';
import { connectWorker } from './worker-link.js';

const panel = new StatusPanel(document);

try {
  const p2p = wantsP2p();
  const link = await connectWorker({ onStatus: (status) => panel.show(status), p2p });
  panel.attach(link);
  const status = await link.status();
  panel.show(status);
  const transport = p2p ? startP2p({ panel }) : null;
  const chat = new ChatApp(document, { serverName: status.serverName });
  chat.start();
  // After an import, the accounts and sessions are those of the file.
  document.addEventListener('hometab-imported', () => location.reload());
  globalThis.hometabDemo = { link, chat, panel, transport };
} catch (e) {
  panel.fatal(e.message);
}
