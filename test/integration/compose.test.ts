/**
 * docker-compose.yml as Compose reads it (`docker-compose config`, with an .env file of the test's own):
 * what a user's settings turn into in the containers. No Docker engine is needed to read it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXAMPLE_TOKEN } from '../../api/src/config.js';
import { kafkaVersion } from '../../scripts/kafka-version.mjs';
import { alertmanagerBinary } from '../support/alertmanager.js';
import { prometheusBinary } from '../support/prometheus.js';

const repo = new URL('../../', import.meta.url).pathname;

interface Service {
  image?: string;
  environment?: Record<string, string | null>;
  healthcheck?: { test: string[] };
  volumes?: (string | { source: string; target: string })[];
  profiles?: string[];
}

function composeConfig(dotenv: Record<string, string>): Record<string, Service> {
  const dir = mkdtempSync(join(tmpdir(), 'compose-'));
  try {
    const envFile = join(dir, '.env');
    writeFileSync(
      envFile,
      Object.entries(dotenv)
        .map(([name, value]) => `${name}=${value}\n`)
        .join(''),
    );
    const text = execFileSync(
      'docker-compose',
      ['--env-file', envFile, '--profile', 'cluster', '--profile', 'monitoring', 'config'],
      {
        cwd: repo,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    return (parse(text) as { services: Record<string, Service> }).services;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const envOf = (service: Service | undefined) => service?.environment ?? {};

describe('docker-compose.yml', () => {
  it('runs the Kafka version the tests run, single node and cluster alike', () => {
    const services = composeConfig({});
    for (const name of ['kafka', 'kafka-1', 'kafka-2', 'kafka-3']) {
      expect(services[name]?.image, name).toBe(`apache/kafka:${kafkaVersion()}`);
    }
  });

  const monitoring = { prometheus: prometheusBinary(), alertmanager: alertmanagerBinary() };
  it.skipIf(Object.values(monitoring).includes(undefined) && process.env.CI !== 'true')(
    'runs the Prometheus and Alertmanager versions the alerting tests run',
    () => {
      const services = composeConfig({});
      for (const [service, binary] of Object.entries(monitoring)) {
        const printed = spawnSync(binary ?? service, ['--version'], { encoding: 'utf8' });
        const version = /version (\d+\.\d+\.\d+)/.exec(printed.stdout + printed.stderr)?.[1];
        expect(version, `${service} --version`).toBeDefined();
        expect(services[service]?.image, service).toMatch(new RegExp(`:v${version?.replaceAll('.', '\\.')}$`));
      }
    },
  );

  it('builds the daemons on the Node.js major the project runs on', () => {
    const major = /v(\d+)/.exec(process.version)?.[1];
    for (const file of ['Dockerfile.producer', 'Dockerfile.consumer', 'Dockerfile.api']) {
      expect(readFileSync(join(repo, file), 'utf8'), file).toContain(`ARG NODE_IMAGE=node:${major}-alpine`);
    }
  });

  it("checks PostgreSQL's health over TCP, not on the socket the image's init server also answers", () => {
    expect(composeConfig({}).postgres?.healthcheck?.test.join(' ')).toContain('pg_isready -h 127.0.0.1 -p 5432');
  });

  it('hands the PostgreSQL password over as PGPASSWORD, so that any character is safe in it', () => {
    const password = 'p/a?s#s%w@rd:1';
    const consumer = envOf(composeConfig({ POSTGRES_PASSWORD: password, POSTGRES_USER: 'loader' }).consumer);
    expect(consumer.PGPASSWORD).toBe(password);
    const url = new URL(String(consumer.DATABASE_URL));
    expect([url.username, url.password, url.hostname, url.port, url.pathname]).toEqual([
      'loader',
      '',
      'postgres',
      '5432',
      '/MyDb',
    ]);
  });

  it("keeps the host's Kafka security settings out of the containers, and passes the COMPOSE_* ones", () => {
    const host = { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'me', KAFKA_SASL_PASSWORD: 'x' };
    for (const service of ['producer', 'consumer']) {
      expect(envOf(composeConfig(host)[service]), service).toMatchObject({
        KAFKA_SSL: 'false',
        KAFKA_SASL_MECHANISM: '',
        KAFKA_SASL_USERNAME: '',
        KAFKA_SASL_PASSWORD: '',
      });
    }
    const secured = composeConfig({
      COMPOSE_KAFKA_SSL_CA_FILE: '/run/secrets/user-actions/kafka-ca.pem',
      COMPOSE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      COMPOSE_KAFKA_SASL_USERNAME: 'user-actions',
      COMPOSE_KAFKA_SASL_PASSWORD_FILE: '/run/secrets/user-actions/kafka-password',
    });
    for (const service of ['producer', 'consumer']) {
      expect(envOf(secured[service]), service).toMatchObject({
        KAFKA_SSL_CA_FILE: '/run/secrets/user-actions/kafka-ca.pem',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'user-actions',
        KAFKA_SASL_PASSWORD_FILE: '/run/secrets/user-actions/kafka-password',
      });
      const mounts = (secured[service]?.volumes ?? []).map((volume) => (typeof volume === 'string' ? volume : volume.target));
      expect(
        mounts.some((mount) => mount.includes('/run/secrets/user-actions')),
        `${service} mounts ./secrets`,
      ).toBe(true);
    }
  });

  it('serves the API on 5005, ready when /readyz says so, after PostgreSQL, with the token of .env.example unless .env sets one', () => {
    const services = composeConfig({});
    const api = services.api as Service & { ports?: { published: string | number; target: number }[]; depends_on?: object };
    expect([String(api.ports?.[0]?.published), api.ports?.[0]?.target]).toEqual(['5005', 5005]);
    expect(api.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:5005/readyz');
    expect(api.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(envOf(api).API_TOKENS).toBe(EXAMPLE_TOKEN);
    expect(readFileSync(join(repo, '.env.example'), 'utf8')).toContain(`\nAPI_TOKENS=${EXAMPLE_TOKEN}\n`);
    expect(envOf(composeConfig({ API_TOKENS: 'my-own-token-0123456789' }).api).API_TOKENS).toBe('my-own-token-0123456789');
  });

  it('lets every setting .env.example offers for compose reach compose', () => {
    const example = readFileSync(join(repo, '.env.example'), 'utf8');
    const composeSection = example.slice(example.indexOf('# docker compose'));
    const offered = [...composeSection.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]);
    expect(offered.length).toBeGreaterThan(5);
    const file = readFileSync(join(repo, 'docker-compose.yml'), 'utf8');
    for (const variable of offered) expect(file, variable).toContain(`\${${variable}:-`);
    expect(envOf(composeConfig({ PRODUCER_COUNT: '1000' }).producer).PRODUCER_COUNT).toBe('1000');
  });
});
