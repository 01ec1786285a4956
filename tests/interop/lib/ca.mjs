// ca.mjs -- a throw-away test CA and one leaf certificate for loopback federation, made with
// Debian's openssl command.
//
//   const tls = makeTestCa(dir);   // { ca, cert, key } as PEM strings, and caPath, certPath, keyPath
//
// The one design decision: one leaf for IP:127.0.0.1 (and IP:::1, DNS:localhost) serves every
// server of a test (Synapse's federation listener and the fake server's HTTPS), and every
// server trusts only this CA: Synapse checks the IP subjectAltName of IP-literal server names
// and sends no SNI, so the name a server is reached by must be in the leaf, not its CN.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(args, cwd) {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('openssl is not installed: run `make interop` (it installs the Debian packages)');
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr}`);
  }
}

export function makeTestCa(dir) {
  mkdirSync(dir, { recursive: true });
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=hometab federation test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem'], dir);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'key.pem'], dir);
  openssl(['req', '-new', '-key', 'key.pem', '-subj', '/CN=127.0.0.1', '-out', 'leaf.csr'], dir);
  writeFileSync(join(dir, 'leaf.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
    '',
  ].join('\n'));
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-sha256',
    '-extfile', 'leaf.ext', '-out', 'cert.pem'], dir);
  openssl(['verify', '-CAfile', 'ca.pem', 'cert.pem'], dir);
  const caPath = join(dir, 'ca.pem');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  return {
    caPath, certPath, keyPath,
    ca: readFileSync(caPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'),
  };
}
