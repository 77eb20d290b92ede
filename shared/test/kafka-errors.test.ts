import { MultipleErrors, NetworkError, ProtocolError } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { classify, FATAL_CODES, isRetryable } from '../src/errors.js';
import { kafkaVerdict } from '../src/kafka/errors.js';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } = kafkajs;

const responseError = (...ids: string[]) =>
  new MultipleErrors(
    'Producing messages failed.',
    ids.map((id) => new ProtocolError(id)),
  );
const protocolError = (type: string) => Object.assign(new KafkaJSProtocolError(type), { type });

describe("classifying the producer client's failures", () => {
  it('waits out an unreachable broker and a leader election', () => {
    expect(
      isRetryable(new MultipleErrors('Cannot connect to any broker.', [new NetworkError('Connection error')]), kafkaVerdict),
    ).toBe(true);
    expect(isRetryable(responseError('NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE'), kafkaVerdict)).toBe(true);
  });

  it('repeats a send whose answer the client could not read (a leader moving)', () => {
    const unreadable = Object.assign(new Error('Out of bounds.'), { code: 'OUT_OF_BOUNDS' });
    const error = new MultipleErrors('produce failed 4 times.', [unreadable, new NetworkError('Connection error')]);
    expect(isRetryable(error, kafkaVerdict)).toBe(true);
  });

  it('repeats a send the broker refused for its producer id, with a new one', () => {
    expect(isRetryable(responseError('OUT_OF_ORDER_SEQUENCE_NUMBER'), kafkaVerdict)).toBe(true);
  });

  it('stops on refused permissions, even beside a retryable failure', () => {
    expect(classify(responseError('TOPIC_AUTHORIZATION_FAILED'), kafkaVerdict)).toMatchObject({
      retryable: false,
      code: FATAL_CODES.kafkaRefused,
      message: expect.stringMatching(/^Kafka's ACLs do not let this user use the topic/),
    });
    expect(isRetryable(responseError('NOT_LEADER_OR_FOLLOWER', 'CLUSTER_AUTHORIZATION_FAILED'), kafkaVerdict)).toBe(false);
  });
});

describe("classifying kafkajs' failures", () => {
  it('waits out a broker away, also once kafkajs has given up on it', () => {
    const away = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(isRetryable(away, kafkaVerdict)).toBe(true);
    expect(isRetryable(new KafkaJSNumberOfRetriesExceeded(away, { retryCount: 5, retryTime: 3_000 }), kafkaVerdict)).toBe(true);
  });

  it('stops on refused credentials with what to fix', () => {
    // Its declared constructor takes nothing; the client passes the broker's message.
    const refused = new (KafkaJSSASLAuthenticationError as new (message: string) => Error)('SASL PLAIN authentication failed');
    const error = classify(refused, kafkaVerdict);
    expect(error).toMatchObject({ retryable: false, code: FATAL_CODES.kafkaRefused });
    expect(error.message).toMatch(
      /^Kafka refused the credentials in KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD .*authentication failed/,
    );
  });

  it('stops on an untrusted certificate as a setting to fix', () => {
    const untrusted = new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const error = classify(new KafkaJSNumberOfRetriesExceeded(untrusted, { retryCount: 5, retryTime: 3_000 }), kafkaVerdict);
    expect(error).toMatchObject({ retryable: false, code: FATAL_CODES.misconfigured });
    expect(error.message).toContain('set KAFKA_SSL_CA_FILE');
  });

  it('has one verdict on too few brokers for the replication factor: waited out, and a topic problem when it lasts', () => {
    expect(kafkaVerdict(protocolError('INVALID_REPLICATION_FACTOR'))).toEqual({
      retryable: true,
      code: FATAL_CODES.kafkaTopic,
      explanation: "fewer brokers are up than the cluster's default.replication.factor; start the missing brokers",
    });
  });

  it("leaves a failure that is not Kafka's as it is", () => {
    const defect = new TypeError('payload is undefined');
    expect(kafkaVerdict(defect)).toBeUndefined();
    expect(classify(defect, kafkaVerdict)).toBe(defect);
  });
});
