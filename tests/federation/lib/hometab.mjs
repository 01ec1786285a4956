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
import { startTcpFront } from './tcp-front.mjs';
import { startTlsFront } from './tls-front.mjs';

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

// partitionable: other servers reach this one through a TCP forwarder
// (tcp-front.mjs) that srv.front.cut() and srv.front.mend() break and mend.
// tls (tests/interop/lib/ca.mjs's makeTestCa): other servers reach this one
// over TLS through stunnel4 on its own port (the name's port), and it trusts
// the test CA for its own requests (unless trustCa is false); clients still
// use the plain port. rateLimit: keep the rate limits on (off by default here).
// env: more environment for the server's process.
export async function startFederating({ args = [], port, db, tls, frontPort, trustCa = true, partitionable, rateLimit = false, env } = {}) {
  port ??= await freePort();
  if (tls || partitionable) frontPort ??= await freePort();
  const name = `127.0.0.1:${frontPort ?? port}`;
  const transport = !tls ? ['--federation-insecure-http'] : trustCa ? ['--federation-ca', tls.caPath] : [];
  const flags = ['--listen', `127.0.0.1:${port}`, '--server-name', name, '--federation', ...transport,
                 ...(rateLimit ? [] : ['--no-rate-limit']), ...args];
  const front = tls ? await startTlsFront({ port: frontPort, target: port, tls })
    : partitionable ? await startTcpFront({ port: frontPort, target: port }) : null;
  const srv = await startServer({ args: flags, db, env }).catch(async (e) => {
    await front?.stop();
    throw e;
  });
  srv.serverName = name;
  srv.front = front;
  if (front) {
    const stop = srv.stop;
    srv.stop = async (opts) => {
      await stop(opts);
      await front.stop();
    };
  }
  return srv;
}
