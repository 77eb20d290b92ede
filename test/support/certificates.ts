/** A certificate authority of a test's own, and a server certificate it signed for 127.0.0.1 (openssl). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  /** The CA's certificate, PEM: what a client trusts. */
  readonly caFile: string;
  readonly serverCertificate: string;
  readonly serverKey: string;
  /** The server's key and certificate in one PEM file. */
  readonly serverPemFile: string;
  remove(): void;
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'test-certificates-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
  // PKCS#8, which Kafka's PEM key stores read.
  openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'server.key', '-out', 'server.pk8');
  const serverCertificate = readFileSync(join(dir, 'server.crt'), 'utf8');
  const serverKey = readFileSync(join(dir, 'server.pk8'), 'utf8');
  writeFileSync(join(dir, 'server.pem'), serverKey + serverCertificate);
  return {
    caFile: join(dir, 'ca.pem'),
    serverCertificate,
    serverKey,
    serverPemFile: join(dir, 'server.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
