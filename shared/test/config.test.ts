import { describe, expect, it } from 'vitest';
import { ConfigError, commonSettings, envSchemaOf, parseEnv } from '../src/config.js';

const schema = envSchemaOf(commonSettings);

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    expect(parseEnv(schema, {})).toEqual({
      KAFKA_BROKERS: ['localhost:9092'],
      KAFKA_TOPIC: 'user-actions',
      KAFKA_TOPIC_PARTITIONS: 6,
      KAFKA_TOPIC_RETENTION_MS: 604_800_000,
      LOG_LEVEL: 'info',
      LOG_SUMMARY_INTERVAL_MS: 5000,
      METRICS_PORT: 9464,
    });
  });

  it('splits a comma-separated broker list and treats empty variables as unset', () => {
    const parsed = parseEnv(schema, { KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092,', KAFKA_TOPIC: '' });
    expect(parsed.KAFKA_BROKERS).toEqual(['kafka-1:9092', 'kafka-2:9092']);
    expect(parsed.KAFKA_TOPIC).toBe('user-actions');
  });

  it('reports every bad variable in one error', () => {
    const env = { KAFKA_BROKERS: 'kafka', KAFKA_TOPIC: 'no spaces', KAFKA_TOPIC_PARTITIONS: '0', LOG_LEVEL: 'chatty' };
    let caught: unknown;
    try {
      parseEnv(schema, env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(Object.keys(env).sort());
    expect((caught as ConfigError).message).toContain('KAFKA_TOPIC_PARTITIONS: must be a whole number from 1 to 10000');
  });
});

describe('settings from files (Docker secrets)', () => {
  const files: Record<string, string> = { '/run/secrets/topic': 'from-a-file\n' };
  const readFile = (path: string) => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return content.replace(/\r?\n$/, '');
  };

  it('reads X from the file named by X_FILE, without its trailing newline', () => {
    expect(parseEnv(schema, { KAFKA_TOPIC_FILE: '/run/secrets/topic' }, readFile).KAFKA_TOPIC).toBe('from-a-file');
  });

  it("leaves other programs' *_FILE variables alone, readable or not", () => {
    const env = { SSL_CERT_FILE: '/nowhere', TF_CLI_CONFIG_FILE: '/run/secrets/topic' };
    expect(parseEnv(schema, env, readFile)).toEqual(parseEnv(schema, {}, readFile));
  });

  it('reports a missing file and a variable set both ways, with the other problems', () => {
    let caught: ConfigError | undefined;
    try {
      parseEnv(
        schema,
        { KAFKA_BROKERS_FILE: '/nowhere', KAFKA_TOPIC: 'a', KAFKA_TOPIC_FILE: '/run/secrets/topic', LOG_LEVEL: 'x' },
        readFile,
      );
    } catch (error) {
      caught = error as ConfigError;
    }
    expect(caught?.problems).toEqual([
      'KAFKA_BROKERS_FILE: cannot read /nowhere (ENOENT)',
      'KAFKA_TOPIC_FILE: set together with KAFKA_TOPIC; set only one of them',
      expect.stringMatching(/^LOG_LEVEL: /),
    ]);
  });
});
