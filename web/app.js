// app.js -- the demo page: start the in-browser server, then the chat.
//
// The page registers hometab's service worker and waits until the worker
// controls it; only then does it make its first fetch('/_matrix/...'), so
// every Matrix request of this page is answered inside the browser and none
// reaches the native server that served these files.

import { ChatApp } from './chat.js';
import { StatusPanel } from './status.js';
import { connectWorker } from './worker-link.js';

const panel = new StatusPanel(document);

try {
  const link = await connectWorker({ onStatus: (status) => panel.show(status) });
  panel.attach(link);
  panel.show(await link.status());
  const chat = new ChatApp(document);
  chat.start();
  // After an import, the accounts and sessions are those of the file.
  document.addEventListener('hometab-imported', () => location.reload());
  globalThis.hometabDemo = { link, chat, panel };
} catch (e) {
  panel.fatal(e.message);
}
