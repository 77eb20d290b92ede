/**
 * Does the listener at KAFKA_BROKERS speak what the daemon was configured for? One SaslHandshake
 * request answers it: every Kafka listener answers that request first (a SASL listener with the
 * mechanisms it offers, any other with ILLEGAL_SASL_STATE), a TLS listener resets a plaintext one, and
 * anything that is not Kafka answers something else. A mismatch is a setting to fix, said in one line,
 * where the clients would retry forever.
 */

import { type Endpoint, type ProbeOutcome, parseEndpoint, probe, TLS_VERIFICATION_CODES } from '../wire-probe.js';
import type { KafkaSecurity } from './security.js';

const SASL_HANDSHAKE = { apiKey: 17, version: 1 } as const;
const CORRELATION_ID = 0x55_41_50; // any number: the answer must repeat it
const ERROR_NONE = 0;
const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;
const KAFKA_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** A SaslHandshake v1 request (header v1, client id `user-actions-probe`). */
export function saslHandshakeRequest(mechanism: string): Buffer {
  const clientId = Buffer.from('user-actions-probe');
  const name = Buffer.from(mechanism);
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 2 + name.length);
  let at = body.writeInt16BE(SASL_HANDSHAKE.apiKey, 0);
  at = body.writeInt16BE(SASL_HANDSHAKE.version, at);
  at = body.writeInt32BE(CORRELATION_ID, at);
  at = body.writeInt16BE(clientId.length, at);
  at += clientId.copy(body, at);
  at = body.writeInt16BE(name.length, at);
  name.copy(body, at);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

export interface SaslHandshakeReply {
  errorCode: number;
  mechanisms: string[];
}

/** The SaslHandshake answer in `bytes`, or undefined when they are not (yet) one. */
export function readSaslHandshakeReply(bytes: Buffer): SaslHandshakeReply | undefined {
  if (bytes.length < 10) return undefined;
  const size = bytes.readInt32BE(0);
  if (size < 6 || size > 64 * 1024 || bytes.length < 4 + size || bytes.readInt32BE(4) !== CORRELATION_ID) return undefined;
  const errorCode = bytes.readInt16BE(8);
  const mechanisms: string[] = [];
  if (size >= 10) {
    let at = 14;
    const count = bytes.readInt32BE(10);
    for (let index = 0; index < count && at + 2 <= 4 + size; index++) {
      const length = bytes.readInt16BE(at);
      mechanisms.push(bytes.toString('utf8', at + 2, at + 2 + length));
      at += 2 + length;
    }
  }
  return { errorCode, mechanisms };
}

const isWholeReply = (bytes: Buffer) => bytes.length >= 4 && bytes.length >= 4 + bytes.readInt32BE(0);

/** Asks `endpoint` for a SaslHandshake; true when a Kafka broker answered. */
export async function answersLikeKafka(endpoint: Endpoint, { tls = false, timeoutMs = 3_000 } = {}): Promise<boolean> {
  return isKafka(await probe(endpoint, saslHandshakeRequest('PLAIN'), { tls, timeoutMs, complete: isWholeReply }));
}

/** Names what answered, for a message: PostgreSQL and HTTP are told apart, anything else is described. */
export function describeForeignReply(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  if (text.startsWith('E') && /\0[SV]FATAL\0/.test(text)) return 'it answered like PostgreSQL';
  if (text.startsWith('HTTP/')) return 'it answered like an HTTP server';
  return `it answered ${bytes.length} bytes that are not Kafka's protocol`;
}

/**
 * What is wrong with how the daemon would talk to `address`, as one sentence that says what to set, or
 * undefined when nothing is known to be wrong (it matches, or nobody answers yet: that is waited for).
 */
export async function kafkaListenerProblem(
  address: string,
  security: KafkaSecurity,
  timeoutMs = 3_000,
): Promise<string | undefined> {
  const endpoint = parseEndpoint(address, 9092);
  const mechanism = security.sasl ? KAFKA_MECHANISMS[security.sasl.mechanism] : 'PLAIN';
  const wantsTls = security.tls !== false;
  const ask = (tls: boolean | { ca?: string }) =>
    probe(endpoint, saslHandshakeRequest(mechanism), { tls, timeoutMs, complete: isWholeReply });
  // With TLS configured, the certificate is verified as the clients will (the CA given, or the system's).
  const first = await ask(security.tls);
  const where = `KAFKA_BROKERS ${address}`;
  if (first.kind === 'tls-failed' && TLS_VERIFICATION_CODES.has(first.reason)) {
    return `${where}: ${certificateProblem(first.reason, endpoint.host)}`;
  }

  const reply = first.kind === 'reply' ? readSaslHandshakeReply(first.bytes) : undefined;
  if (reply) return saslMismatch(where, reply, security);
  if (first.kind === 'unreachable') return undefined;

  if (wantsTls) {
    // The TLS handshake failed, or what came through it is not Kafka: is the listener plaintext?
    const plain = first.kind === 'tls-failed' ? await ask(false) : undefined;
    if (plain && isKafka(plain)) {
      return `${where} speaks plaintext, not TLS: unset KAFKA_SSL and KAFKA_SSL_CA_FILE, or point KAFKA_BROKERS at the brokers' TLS listener`;
    }
    return foreign(where, plain?.kind === 'reply' ? plain.bytes : first.kind === 'reply' ? first.bytes : undefined);
  }
  // Plaintext asked: a TLS listener resets it (or sends an alert); a handshake then tells.
  const secure = await ask(true);
  if (isKafka(secure)) {
    return `${where} speaks TLS: set KAFKA_SSL=true (and KAFKA_SSL_CA_FILE when its certificate comes from a CA of your own), or point KAFKA_BROKERS at a plaintext listener`;
  }
  return foreign(where, first.kind === 'reply' ? first.bytes : undefined);
}

function certificateProblem(code: string, host: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `its TLS certificate does not name ${host}: connect by a name the certificate has`;
  if (code === 'CERT_HAS_EXPIRED') return 'its TLS certificate has expired: the brokers need a new one';
  return `its TLS certificate is not trusted (${code}): set KAFKA_SSL_CA_FILE to the CA that signed it`;
}

function isKafka(outcome: ProbeOutcome): boolean {
  return outcome.kind === 'reply' && readSaslHandshakeReply(outcome.bytes) !== undefined;
}

/** Bytes that are not Kafka's are a wrong address; a silent close may be a broker still starting. */
function foreign(where: string, bytes: Buffer | undefined): string | undefined {
  if (!bytes) return undefined;
  return `${where} is not a Kafka broker (${describeForeignReply(bytes)}): set KAFKA_BROKERS to the brokers' host:port`;
}

function saslMismatch(where: string, reply: SaslHandshakeReply, security: KafkaSecurity): string | undefined {
  if (reply.errorCode === ILLEGAL_SASL_STATE) {
    return security.sasl
      ? `${where} does not use SASL, but KAFKA_SASL_MECHANISM is set: unset KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, or point KAFKA_BROKERS at the brokers' SASL listener`
      : undefined;
  }
  if (reply.errorCode !== ERROR_NONE && reply.errorCode !== UNSUPPORTED_SASL_MECHANISM) return undefined;
  const offered = reply.mechanisms.join(', ') || 'none';
  if (!security.sasl) {
    return `${where} requires SASL authentication (it offers ${offered}): set KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, or point KAFKA_BROKERS at a listener without SASL`;
  }
  if (reply.errorCode === UNSUPPORTED_SASL_MECHANISM) {
    return `${where} does not offer SASL ${KAFKA_MECHANISMS[security.sasl.mechanism]} (it offers ${offered}): set KAFKA_SASL_MECHANISM to one of those`;
  }
  return undefined;
}

/**
 * The first problem any of `brokers` shows, checked in order; undefined when none shows one. A
 * problem with one broker is a problem with the configuration, whatever the others say.
 */
export async function kafkaConfigurationProblem(
  brokers: readonly string[],
  security: KafkaSecurity,
): Promise<string | undefined> {
  for (const address of brokers) {
    const problem = await kafkaListenerProblem(address, security);
    if (problem) return problem;
  }
  return undefined;
}
