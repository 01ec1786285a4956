// reachability.js -- whether the origin that served this page answers: the
// "online" / "offline" pill beside the worker's status.
//
// The in-browser server works either way; what depends on the origin is
// getting a newer build. The probe asks for /version.json, which the service
// worker takes from the network first and from its cache when the network
// does not answer; a cached answer carries X-Hometab-Build (sw/shell.js), so
// an answer without it is the server's. Every result is told to the page as a
// 'hometab-reachability' event on document, { reachable, build }, where build
// is the server's newest (web/worker-link.js follows it).

const PROBE_EVERY_MS = { online: 30000, offline: 5000 };

async function probe() {
  if (!navigator.onLine) return { reachable: false };
  try {
    const response = await fetch('/version.json', { cache: 'no-store' });
    if (!response.ok || response.headers.has('x-hometab-build')) return { reachable: false };
    return { reachable: true, build: (await response.json()).build ?? null };
  } catch {
    return { reachable: false };
  }
}

function show(pill, reachable) {
  pill.dataset.reachable = reachable ? 'online' : 'offline';
  pill.textContent = reachable ? 'online' : 'offline';
  pill.title = reachable
    ? `${location.host} answers: updates to this demo arrive when there are any.`
    : `${location.host} cannot be reached. The server in this browser works on; ` +
      'messages are saved here, and the demo updates once the site answers again.';
}

let timer = null;
let probing = false;

async function check() {
  if (probing) return;
  probing = true;
  clearTimeout(timer);
  const result = await probe();
  probing = false;
  const pill = document.getElementById('reachability');
  if (pill) show(pill, result.reachable);
  document.dispatchEvent(new CustomEvent('hometab-reachability', { detail: result }));
  timer = setTimeout(check, PROBE_EVERY_MS[result.reachable ? 'online' : 'offline']);
}

addEventListener('online', check);
addEventListener('offline', check);
check();
