import { describe, expect, it } from 'vitest';
import { parseDatabaseHosts } from '../src/postgres/database-hosts.js';

describe('several hosts in DATABASE_URL', () => {
  it('gives one plain URL per host, in order, with the rest of the URL on each', () => {
    expect(parseDatabaseHosts('postgres://app:pw@db1:5432,db2:5433/events?sslmode=require&target_session_attrs=primary')).toEqual(
      {
        urls: ['postgres://app:pw@db1:5432/events?sslmode=require', 'postgres://app:pw@db2:5433/events?sslmode=require'],
        names: ['db1:5432', 'db2:5433'],
        targetSessionAttrs: 'primary',
      },
    );
  });

  it('asks for a writable host unless told otherwise, and leaves a single-host URL as it is', () => {
    expect(parseDatabaseHosts('postgresql://localhost/db')).toEqual({
      urls: ['postgresql://localhost/db'],
      names: ['localhost:5432'],
      targetSessionAttrs: 'read-write',
    });
    expect(parseDatabaseHosts('postgres://[::1]:5433,127.0.0.1/db')).toMatchObject({ names: ['[::1]:5433', '127.0.0.1:5432'] });
  });

  it('refuses what cannot work: a standby for a consumer that writes, an empty host, another scheme', () => {
    expect(parseDatabaseHosts('postgres://a,b/db?target_session_attrs=standby')).toMatch(/^target_session_attrs must be/);
    expect(parseDatabaseHosts('postgres://a,,b/db')).toMatch(/several hosts separated by commas/);
    expect(parseDatabaseHosts('mysql://a/db')).toBe('must be a postgres:// URL');
  });
});

describe('target_session_attrs for a reader', () => {
  const READER = { accepted: ['prefer-standby', 'standby', 'any', 'read-only'], why: 'reads' } as const;

  it('takes the libpq values a reader may ask for, its own default first', () => {
    expect(parseDatabaseHosts('postgres://a,b/db', READER)).toMatchObject({ targetSessionAttrs: 'prefer-standby' });
    expect(parseDatabaseHosts('postgres://a,b/db?target_session_attrs=standby', READER)).toMatchObject({
      targetSessionAttrs: 'standby',
      urls: ['postgres://a/db', 'postgres://b/db'],
    });
    expect(parseDatabaseHosts('postgres://a/db?target_session_attrs=read-write', READER)).toBe(
      'target_session_attrs must be prefer-standby, standby, any, read-only (reads)',
    );
  });
});
