// client.mjs -- the small Matrix client the benchmarks share: one keep-alive
// connection per user, as a real client has, and JSON in and out. A bench
// measures the server, so nothing here retries or waits.

import http from 'node:http';

export const V3 = '/_matrix/client/v3';

// One keep-alive connection per user.
export function newAgent() {
  return new http.Agent({ keepAlive: true, maxSockets: 1 });
}

// A client API call; anything but 200 rejects with the status and body.
export function api(server, who, method, path, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { 'content-type': 'application/json' };
  if (who?.token) headers.authorization = `Bearer ${who.token}`;
  if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${V3}${path}`, { method, headers, agent: who?.agent ?? false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
        resolve(JSON.parse(text));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
