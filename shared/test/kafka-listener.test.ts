import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaListenerProblem, readSaslHandshakeReply, saslHandshakeRequest } from '../src/kafka/listener.js';

// What Kafka 4.4 answered the probe's SaslHandshake: a plaintext listener, and a SASL one.
const PLAINTEXT_ANSWER = '0000000a' + '00554150' + '0022' + '00000000';
const SASL_ANSWER_HEAD = '00554150' + '0000';

function saslAnswer(correlation: Buffer, errorCode: number, mechanisms: string[]): Buffer {
  const names = mechanisms.map((name) => {
    const bytes = Buffer.alloc(2 + name.length);
    bytes.writeInt16BE(name.length);
    bytes.write(name, 2);
    return bytes;
  });
  const body = Buffer.concat([correlation, Buffer.from([errorCode >> 8, errorCode & 0xff]), Buffer.alloc(4), ...names]);
  body.writeInt32BE(mechanisms.length, 6);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(onData: (socket: Socket, request: Buffer) => void): Promise<string> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (request) => onData(socket, request));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `127.0.0.1:${address.port}`;
}

/** A listener that answers like Kafka, repeating the request's correlation id. */
const kafkaLike = (errorCode: number, mechanisms: string[] = []) =>
  serve((socket, request) => socket.write(saslAnswer(request.subarray(8, 12), errorCode, mechanisms)));

const PLAINTEXT = { tls: false } as const;
const SCRAM = { tls: false, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } } as const;

describe('reading the SaslHandshake answer', () => {
  it('reads what a real broker answered on a plaintext listener: ILLEGAL_SASL_STATE, no mechanisms', () => {
    expect(readSaslHandshakeReply(Buffer.from(PLAINTEXT_ANSWER, 'hex'))).toEqual({ errorCode: 34, mechanisms: [] });
  });

  it('reads the mechanisms a SASL listener offers', () => {
    const answer = saslAnswer(Buffer.from('00554150', 'hex'), 0, ['PLAIN', 'SCRAM-SHA-512']);
    expect(answer.toString('hex')).toContain(SASL_ANSWER_HEAD);
    expect(readSaslHandshakeReply(answer)).toEqual({ errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] });
  });

  it('refuses bytes that are not an answer to this request', () => {
    expect(readSaslHandshakeReply(Buffer.from('E\0\0\0\x84SFATAL\0VFATAL\0', 'latin1'))).toBeUndefined();
    expect(readSaslHandshakeReply(Buffer.from('0000000a00000001002200000000', 'hex'))).toBeUndefined(); // other id
    expect(readSaslHandshakeReply(Buffer.from(PLAINTEXT_ANSWER, 'hex').subarray(0, 9))).toBeUndefined();
  });

  it('asks with a SaslHandshake v1 request naming the mechanism', () => {
    const request = saslHandshakeRequest('SCRAM-SHA-512');
    expect(request.readInt32BE(0)).toBe(request.length - 4);
    expect([request.readInt16BE(4), request.readInt16BE(6)]).toEqual([17, 1]);
    expect(request.subarray(-13).toString()).toBe('SCRAM-SHA-512');
  });
});

describe('what a listener says about the configuration', () => {
  it('a plaintext listener suits a daemon without SASL and stops one with SASL', async () => {
    const address = await kafkaLike(34);
    expect(await kafkaListenerProblem(address, PLAINTEXT)).toBeUndefined();
    expect(await kafkaListenerProblem(address, SCRAM)).toMatch(/does not use SASL, but KAFKA_SASL_MECHANISM is set/);
  });

  it('a SASL listener suits a daemon with one of its mechanisms and stops the others', async () => {
    expect(await kafkaListenerProblem(await kafkaLike(0, ['SCRAM-SHA-512']), SCRAM)).toBeUndefined();
    expect(await kafkaListenerProblem(await kafkaLike(0, ['PLAIN']), PLAINTEXT)).toMatch(
      /requires SASL authentication \(it offers PLAIN\): set KAFKA_SASL_MECHANISM/,
    );
    expect(await kafkaListenerProblem(await kafkaLike(33, ['PLAIN']), SCRAM)).toMatch(
      /does not offer SASL SCRAM-SHA-512 \(it offers PLAIN\)/,
    );
  });

  it('a server that is not Kafka is named as such', async () => {
    const address = await serve((socket) => socket.end(Buffer.from('E\0\0\0\x20SFATAL\0VFATAL\0C0A000\0', 'latin1')));
    expect(await kafkaListenerProblem(address, PLAINTEXT)).toMatch(/is not a Kafka broker \(it answered like PostgreSQL\)/);
  });

  it('nobody listening, or a connection closed without a word, is waited for: no verdict', async () => {
    const silent = await serve((socket) => socket.destroy());
    expect(await kafkaListenerProblem(silent, PLAINTEXT, 500)).toBeUndefined();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    expect(await kafkaListenerProblem(`127.0.0.1:${port}`, PLAINTEXT, 500)).toBeUndefined();
  });

  it('TLS asked of a plaintext Kafka listener says so', async () => {
    const address = await kafkaLike(34);
    expect(await kafkaListenerProblem(address, { tls: {} })).toMatch(/speaks plaintext, not TLS: unset KAFKA_SSL/);
  });
});
