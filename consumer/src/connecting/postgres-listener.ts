/**
 * Is DATABASE_URL's server PostgreSQL? node-postgres sees a Kafka broker (or any other server) there as
 * a connection that times out or drops, and would wait for it forever. The SSLRequest every libpq client
 * sends first is answered by PostgreSQL with one byte, `S` or `N`; anything else is asked whether it is
 * Kafka, so the message can say what was found.
 */
import { answersLikeKafka, describeForeignReply, probe } from '@user-actions/shared';

// Length 8, then the SSLRequest code 80877103 (1234 << 16 | 5679).
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** One sentence saying what to fix, or undefined when the server is PostgreSQL or not reachable yet. */
export async function postgresListenerProblem(databaseUrl: string, timeoutMs = 2_000): Promise<string | undefined> {
  const url = URL.parse(databaseUrl);
  // A Unix socket (`?host=/run/postgresql`) or no host at all: nothing to ask over TCP.
  if (!url?.hostname || url.searchParams.get('host')?.startsWith('/')) return undefined;
  const endpoint = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 5432) };
  const where = `DATABASE_URL's server ${url.hostname}:${endpoint.port}`;
  const outcome = await probe(endpoint, SSL_REQUEST, { timeoutMs, complete: (bytes) => bytes.length >= 1 });
  if (outcome.kind === 'unreachable') return undefined;
  if (outcome.kind === 'reply' && isPostgresAnswer(outcome.bytes)) return undefined;
  if (await answersLikeKafka(endpoint, { timeoutMs })) {
    return `${where} is a Kafka broker, not PostgreSQL: set DATABASE_URL to the PostgreSQL server's host and port`;
  }
  if (outcome.kind === 'reply') {
    return `${where} is not PostgreSQL (${describeForeignReply(outcome.bytes)}): set DATABASE_URL to the PostgreSQL server's host and port`;
  }
  return undefined;
}

function isPostgresAnswer(bytes: Buffer): boolean {
  return bytes.length === 1 && (bytes[0] === 0x53 || bytes[0] === 0x4e); // 'S' or 'N'
}
