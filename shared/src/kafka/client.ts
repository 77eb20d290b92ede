/** A kafkajs client whose logs go through pino, with the daemons' TLS and SASL settings. */
import { isIP, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import kafkajs, { type ISocketFactory, Kafka, type LogEntry, logLevel, type SASLOptions } from 'kafkajs';
import type { Logger } from '../logger.js';
import type { KafkaSecurity } from './security.js';

/** Where the brokers are, who is asking, and how to authenticate: what every Kafka client here needs. */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  kafkaSecurity: KafkaSecurity;
}

export function createKafka({ brokers, clientId, kafkaSecurity: security }: KafkaConnection, logger: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers,
    ssl: security.tls === false ? false : security.tls.ca ? { ca: [security.tls.ca] } : true,
    // kafkajs types each mechanism's options apart; ours are the same three fields for all three.
    ...(security.sasl ? { sasl: { ...security.sasl } as SASLOptions } : {}),
    // Every request waits at most this long for its answer (kafkajs' own default, stated here because
    // it is what bounds a silent broker connection in flight); idle connections are probed sooner.
    requestTimeout: KAFKA_REQUEST_TIMEOUT_MS,
    enforceRequestTimeout: true,
    socketFactory: keepAliveSockets,
    logLevel: logLevel.WARN,
    logCreator: () => forwardToPino(logger.child({ component: 'kafkajs' })),
  });
}

export const KAFKA_REQUEST_TIMEOUT_MS = 30_000;

/** The admin client's name for a topic's configuration (a CommonJS export Node.js' ESM loader does not find by name). */
export const TOPIC_CONFIG = kafkajs.ConfigResourceTypes.TOPIC;
/** TCP keepalive on idle broker connections after 10 s (kafkajs' socket factory waits 60 s). */
const KEEPALIVE_DELAY_MS = 10_000;

const keepAliveSockets: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
    : tcpConnect({ host, port }, onConnect);
  socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
  return socket;
};

// kafkajs' lines for each failed connection attempt (our retry loops log one line per backoff step),
// and its echo of each error a broker answers ("Response FindCoordinator…"), which reaches the code that
// asked and is handled or reported there: the coordinator of a new group not elected yet, a topic that
// another replica created a moment before. On a healthy start they were warnings about nothing.
const DEBUG_MESSAGES = /^(Connection error|Connection timeout|Failed to connect to seed broker|Response )/;

function forwardToPino(logger: Logger) {
  return ({ level, log }: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
    // kafkajs' errors are warnings at most here: what fails for good reaches our code, which says so.
    if (DEBUG_MESSAGES.test(message)) logger.debug(fields, message);
    else if (level <= logLevel.WARN) logger.warn(fields, message);
    else if (level === logLevel.INFO) logger.info(fields, message);
    else logger.debug(fields, message);
  };
}

/** A message to produce, in kafkajs' shape (which the consumer's dead letters already have). */
export interface KafkaMessageOut {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}
