/** A kafkajs client whose logs go through pino, with the daemons' TLS and SASL settings. */
import { Kafka, type LogEntry, logLevel, type SASLOptions } from 'kafkajs';
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
    logLevel: logLevel.WARN,
    logCreator: () => forwardToPino(logger.child({ component: 'kafkajs' })),
  });
}

// kafkajs' lines for each failed connection attempt; our retry loops log one line per backoff step.
const CONNECTION_ATTEMPT_MESSAGES = /^(Connection error|Connection timeout|Failed to connect to seed broker)/;

function forwardToPino(logger: Logger) {
  return ({ level, log }: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
    // kafkajs reports every failed connection attempt as an error; our own retry loops say what
    // they wait for, so its messages are warnings at most, and its per-attempt ones debug lines.
    if (CONNECTION_ATTEMPT_MESSAGES.test(message)) logger.debug(fields, message);
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
