import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { postgresListenerProblem } from '../src/connecting/postgres-listener.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(onData: (socket: Socket, request: Buffer) => void): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (request) => onData(socket, request));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

it('a server that answers the SSLRequest with S or N is PostgreSQL', async () => {
  for (const answer of ['S', 'N']) {
    const port = await serve((socket) => socket.write(answer));
    expect(await postgresListenerProblem(`postgres://u:p@127.0.0.1:${port}/db`)).toBeUndefined();
  }
});

it('a Kafka broker (silent on the SSLRequest, answering a SaslHandshake) is named', async () => {
  const port = await serve((socket, request) => {
    if (request.readInt32BE(0) === 8) return; // Kafka waits for the rest of what it takes for a request
    const answer = Buffer.from('0000000a00000000002200000000', 'hex');
    request.copy(answer, 4, 8, 12); // the correlation id
    socket.write(answer);
  });
  expect(await postgresListenerProblem(`postgres://u:p@127.0.0.1:${port}/db`, 300)).toMatch(
    /is a Kafka broker, not PostgreSQL: set DATABASE_URL/,
  );
});

it('another server is named by what it answered; nobody there is waited for', async () => {
  const port = await serve((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  expect(await postgresListenerProblem(`postgres://127.0.0.1:${port}/db`, 300)).toMatch(
    /is not PostgreSQL \(it answered like an HTTP server\)/,
  );
  expect(await postgresListenerProblem('postgres://127.0.0.1:1/db', 300)).toBeUndefined();
  expect(await postgresListenerProblem('postgres://u@localhost/db?host=/run/postgresql')).toBeUndefined();
});
