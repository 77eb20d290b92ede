import { ConfigError } from '@user-actions/shared';
import { describe, expect, it } from 'vitest';
import { loadProducerConfig } from '../src/config.js';

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('producer configuration', () => {
  it('keeps the original pace of one event every 500 ms, forever, uncompressed', () => {
    expect(loadProducerConfig({})).toMatchObject({ intervalMs: 500, count: 0, compression: 'none' });
  });

  it('lets --rate and --count override the environment for load tests', () => {
    const env = { PRODUCER_INTERVAL_MS: '500', PRODUCER_COUNT: '10' };
    expect(loadProducerConfig(env, ['--rate', '5000', '--count', '1000000'])).toMatchObject({
      intervalMs: 0.2,
      count: 1_000_000,
    });
    expect(loadProducerConfig(env, ['--rate=0'])).toMatchObject({ intervalMs: 0, count: 10 });
  });

  it('reports bad options together with bad variables, checked by the schemas of the settings they override', () => {
    expect(problemsOf(() => loadProducerConfig({ KAFKA_COMPRESSION: 'brotli' }, ['--rate', 'fast', '--count', '1.5']))).toEqual([
      '--rate: must be a number of events per second, 0 or more',
      '--count: must be a whole number from 0 to 9007199254740991',
      expect.stringMatching(/^KAFKA_COMPRESSION: must be one of none, gzip/),
    ]);
    expect(problemsOf(() => loadProducerConfig({}, ['--ratee', '5']))).toEqual([
      expect.stringMatching(/^command line: Unknown option '--ratee'/),
    ]);
  });

  it('reads Kafka TLS and SASL settings, and names every missing companion variable', () => {
    const sasl = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'loader', KAFKA_SASL_PASSWORD: 's3cret' };
    expect(loadProducerConfig({ ...sasl, KAFKA_SSL: 'true' }).kafkaSecurity).toEqual({
      tls: {},
      sasl: { mechanism: 'scram-sha-512', username: 'loader', password: 's3cret' },
    });
    expect(loadProducerConfig({}).kafkaSecurity).toEqual({ tls: false });
    expect(problemsOf(() => loadProducerConfig({ KAFKA_SASL_MECHANISM: 'plain' }))).toEqual([
      'KAFKA_SASL_USERNAME: is needed with KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_PASSWORD: is needed with KAFKA_SASL_MECHANISM',
    ]);
    expect(problemsOf(() => loadProducerConfig({ KAFKA_SASL_USERNAME: 'loader', KAFKA_SASL_PASSWORD: 'x' }))).toEqual([
      'KAFKA_SASL_MECHANISM: is needed with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    ]);
    expect(
      problemsOf(() => loadProducerConfig({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SSL_CA_FILE: '/nowhere/ca.pem' })),
    ).toEqual([
      'KAFKA_SSL_CA_FILE: cannot read /nowhere/ca.pem (ENOENT)',
      expect.stringMatching(/^KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512/),
    ]);
  });

  it('reads the action mix of the simulation, naming every bad entry', () => {
    expect(loadProducerConfig({ SIM_ACTION_MIX: 'Purchase=10, Logout=0.5' }).simActionMix).toEqual({ Purchase: 10, Logout: 0.5 });
    expect(problemsOf(() => loadProducerConfig({ SIM_ACTION_MIX: 'Login=3,Purchase=-1' }))).toEqual([
      expect.stringMatching(/^SIM_ACTION_MIX: Login is not one of PageView, /),
      'SIM_ACTION_MIX: the weight of Purchase must be a number from 0 up',
    ]);
  });
});
