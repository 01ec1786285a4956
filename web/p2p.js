// p2p.js -- the demo's peer-to-peer mode: whether this browser wants it, and
// this tab's share in carrying the transport.
//
// ?p2p=1 turns the mode on for this browser (remembered in localStorage),
// ?p2p=0 turns it off; the worker of that mode is registered
// (web/worker-link.js). The relay's address comes from the server that
// served this page (/p2p.json, which `make run` writes beside the web root's
// files), never typed in. One tab per origin carries the transport (a Web
// Lock, js-bridge/p2p/tab.js); libp2p (/vendor/p2p.js) is loaded only by that
// tab, only in this mode. ?webrtc=0 keeps to relayed connections. /p2p.json
// may also carry `limits`, the transport's (js-bridge/p2p/peer.js, DEFAULTS).

const MODE_KEY = 'hometab-p2p';

export function wantsP2p() {
  const asked = new URLSearchParams(location.search).get('p2p');
  if (asked === '1' || asked === '0') localStorage.setItem(MODE_KEY, asked);
  return localStorage.getItem(MODE_KEY) === '1';
}

// Starts carrying the transport (or waiting for the lock). Returns
// { ready: Promise, transport (once ready), error }.
export function startP2p({ panel }) {
  const out = { transport: null, relay: null, error: null };
  out.ready = (async () => {
    const response = await fetch('/p2p.json', { cache: 'no-store' });
    if (!response.ok) throw new Error('the server that served this page runs no relay (start it with `make run`)');
    out.relay = await response.json();
    const { carryTransport } = await import('/js-bridge/p2p/tab.js');
    out.transport = carryTransport({
      relayAddr: out.relay.relay,
      webrtc: new URLSearchParams(location.search).get('webrtc') !== '0',
      limits: out.relay.limits,
      onState: (state) => panel.showTransport(state),
    });
  })().catch((e) => {
    out.error = e.message;
    panel.showTransport({ state: 'offline', error: e.message });
  });
  return out;
}
