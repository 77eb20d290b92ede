/**
 * One request to a host:port and the first bytes of its answer, over TCP or TLS: what tells a server
 * that is merely not up yet from one that speaks another protocol (a plaintext listener asked for TLS,
 * PostgreSQL's port given as Kafka's). The client libraries see both as dropped connections and retry
 * forever; no library answers the question, so it is asked here, in a few bytes, before they connect.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface Endpoint {
  host: string;
  port: number;
}

export type ProbeOutcome =
  /** Bytes came back (possibly followed by a close). */
  | { kind: 'reply'; bytes: Buffer }
  /** The connection was made, then closed or reset without a byte. */
  | { kind: 'closed' }
  /** TCP connected, but the TLS handshake failed: the server does not speak TLS, or (with a `reason` in
   * TLS_VERIFICATION_CODES) its certificate is not trusted. */
  | { kind: 'tls-failed'; reason: string }
  /** Nobody there yet (refused, no such name yet, no route) or no answer in time: wait and ask again. */
  | { kind: 'unreachable'; reason: string };

// Node.js' verdicts on a certificate it does not trust: a configuration problem, not an outage.
export const TLS_VERIFICATION_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

export interface ProbeOptions {
  /** Speak TLS; `{ ca }` also verifies the server's certificate (against `ca`, or the system's CAs). */
  tls?: boolean | { ca?: string };
  timeoutMs?: number;
  /** Whether the bytes so far are a whole answer, so the probe need not wait for more. */
  complete?: (bytes: Buffer) => boolean;
}

/** Parses `host:port` (an IPv6 host in brackets); a missing port is `defaultPort`. */
export function parseEndpoint(address: string, defaultPort: number): Endpoint {
  const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(address.trim());
  const host = match?.[1] || address;
  return { host, port: match?.[2] ? Number(match[2]) : defaultPort };
}

export function probe({ host, port }: Endpoint, request: Buffer, options: ProbeOptions = {}): Promise<ProbeOutcome> {
  const { tls = false, timeoutMs = 3_000, complete = () => false } = options;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let connected = false;
    let secured = false;
    const socket: Socket = tls
      ? connectTls({
          host,
          port,
          servername: isIp(host) ? undefined : host,
          ...(tls === true ? { rejectUnauthorized: false } : { ca: tls.ca }),
        })
      : connectTcp({ host, port });
    const finish = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(outcome);
    };
    const received = () => Buffer.concat(chunks);
    const ended = (reason: string) => {
      if (chunks.length > 0) finish({ kind: 'reply', bytes: received() });
      else if (tls && connected && !secured) finish({ kind: 'tls-failed', reason });
      else if (connected) finish({ kind: 'closed' });
      else finish({ kind: 'unreachable', reason });
    };
    const timer = setTimeout(() => ended(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => {
      connected = true;
      if (!tls) socket.write(request);
    });
    socket.once('secureConnect', () => {
      secured = true;
      socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(received())) finish({ kind: 'reply', bytes: received() });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => ended(error.code ?? error.message));
    socket.on('close', () => ended('closed'));
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
