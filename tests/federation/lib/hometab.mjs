// hometab.mjs -- real hometab servers that federate on loopback.
//
//   const a = await startFederating();                 // server name 127.0.0.1:<port>
//   const b = await startFederating({ args: [...] });
//   await b.stop({ keepFiles: true });                  // down for a while...
//   const b2 = await startFederating({ port: b.port, db: b.db });  // ...and back
//
// Each is tests/api/lib/server.mjs's server (fetch, stop, ...) listening on
// a port picked beforehand, since a server name must be known before the
// server starts: the name is 127.0.0.1:<port>, and other servers reach it
// there over plain HTTP (--federation-insecure-http, loopback only).

import net from 'node:net';
import { startServer } from '../../api/lib/server.mjs';

// A port free now: the kernel's pick, released for the server to take.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startFederating({ args = [], port, db } = {}) {
  port ??= await freePort();
  const name = `127.0.0.1:${port}`;
  const flags = ['--listen', name, '--server-name', name, '--federation', '--federation-insecure-http',
                 '--no-rate-limit', ...args];
  const srv = await startServer({ args: flags, db });
  srv.serverName = name;
  return srv;
}
