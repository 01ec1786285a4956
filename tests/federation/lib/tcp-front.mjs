// tcp-front.mjs -- a TCP forwarder in front of a server that a test can
// cut and mend: a network partition between servers on one machine.
//
//   const front = await startTcpFront({ port, target });
//   front.cut();      // every connection through it is dropped, new ones are refused
//   await front.mend();
//   await front.stop();

import net from 'node:net';
import { after } from 'node:test';

const running = new Set();
after(async () => {
  for (const front of [...running]) await front.stop();
});

export async function startTcpFront({ port, target }) {
  const sockets = new Set();
  let server = null;
  const listen = () => new Promise((resolve, reject) => {
    server = net.createServer((client) => {
      const upstream = net.connect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    server.on('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const close = () => new Promise((resolve) => {
    if (!server) return resolve();
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
    server = null;
  });
  await listen();
  const front = {
    port,
    cut: close,
    mend: listen,
    async stop() {
      running.delete(front);
      await close();
    },
  };
  running.add(front);
  return front;
}
