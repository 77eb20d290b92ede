import { readFileSync } from 'node:fs';
import { envSchemaOf } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { apiSettings } from '../../api/src/config.js';
import { consumerSettings } from '../../consumer/src/config.js';
import { producerSettings } from '../../producer/src/config.js';

const consumerEnvSchema = envSchemaOf(consumerSettings);
const producerEnvSchema = envSchemaOf(producerSettings);
const apiEnvSchema = envSchemaOf(apiSettings);

import { spawnDaemon } from '../support/daemon.js';

it.each([
  ['consumer', { KAFKA_BROKERS: 'no-port-here', KAFKA_TOPIC_PARTITIONS: 'six', DATABASE_URL: 'mysql://db/x', LOG_LEVEL: 'loud' }],
  ['producer', { KAFKA_BROKERS: ',', KAFKA_TOPIC: 'bad topic!', PRODUCER_INTERVAL_MS: '-5', LOG_LEVEL: 'loud' }],
  ['api', { API_PORT: 'x', API_TOKENS: 'short', DATABASE_URL: 'postgres://a/db?target_session_attrs=bogus', LOG_LEVEL: 'loud' }],
] as const)('the %s stops at start with one message naming every bad variable', async (name, env) => {
  const daemon = spawnDaemon(name, env);
  const exit = await daemon.exited;
  expect(exit.code).toBe(78);
  const output = daemon.text.join('\n');
  for (const variable of Object.keys(env)) expect(output).toContain(`${variable}:`);
  expect(output).not.toMatch(/\n\s+at /); // no stack trace
  expect(daemon.logs).toEqual([]);
});

it('the api will not start without a bearer token: the events hold personal data', async () => {
  const daemon = spawnDaemon('api', {});
  expect((await daemon.exited).code).toBe(78);
  expect(daemon.text.join('\n')).toContain('API_TOKENS:');
});

it.each([
  ['consumer', consumerEnvSchema],
  ['producer', producerEnvSchema],
  ['api', apiEnvSchema],
] as const)('the %s answers --help with every setting and its default, and exits 0', async (name, schema) => {
  const daemon = spawnDaemon(name, {}, ['--help']);
  expect((await daemon.exited).code).toBe(0);
  const help = daemon.text.join('\n');
  for (const variable of Object.keys(schema.shape)) expect(help).toContain(`  ${variable} `);
  if (name !== 'api') expect(help).toMatch(/KAFKA_BROKERS +Kafka brokers, comma-separated host:port \(default: localhost:9092\)/);
  if (name === 'producer') expect(help).toMatch(/--rate N +Events per second[\s\S]*--count N +Stop after N events/);
});

it('the README documents every setting of both daemons', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const variable of [...Object.keys(consumerEnvSchema.shape), ...Object.keys(producerEnvSchema.shape)]) {
    expect(readme, variable).toContain(`| \`${variable}\``);
  }
});

it('docs/api.md documents every setting of the API', () => {
  const reference = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  for (const variable of Object.keys(apiEnvSchema.shape)) expect(reference, variable).toContain(`| \`${variable}\``);
});
