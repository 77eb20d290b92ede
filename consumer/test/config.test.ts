import { ConfigError } from '@user-actions/shared';
import { describe, expect, it } from 'vitest';
import { loadConsumerConfig, withCaFile } from '../src/config.js';
import { sqlFor } from '../src/sql/sql.js';

describe('consumer configuration', () => {
  it("keeps the original system's database, table-creating, with the group of the original consumer", () => {
    expect(loadConsumerConfig({})).toMatchObject({
      databaseUrl: 'postgres://myuser:mypassword@localhost:5432/MyDb',
      groupId: 'user-action-loader',
      autoMigrate: true,
    });
  });

  it('hands DATABASE_CA_FILE to node-postgres as sslrootcert, verifying fully unless DATABASE_URL says otherwise', () => {
    expect(withCaFile('postgres://u@db:5432/app', '/run/secrets/ca.pem')).toBe(
      'postgres://u@db:5432/app?sslrootcert=%2Frun%2Fsecrets%2Fca.pem&sslmode=verify-full',
    );
    expect(withCaFile('postgres://u@db/app?sslmode=no-verify', '/ca.pem')).toBe(
      'postgres://u@db/app?sslmode=no-verify&sslrootcert=%2Fca.pem',
    );
    expect(withCaFile('postgres://u@db/app', undefined)).toBe('postgres://u@db/app');
  });

  it('names a CA file it cannot read', () => {
    expect(() => loadConsumerConfig({ DATABASE_CA_FILE: '/nowhere/ca.pem' })).toThrow(ConfigError);
    expect(() => loadConsumerConfig({ DATABASE_CA_FILE: '/nowhere/ca.pem' })).toThrow(/DATABASE_CA_FILE: cannot read this file/);
  });

  it('accepts only plain identifiers as table and schema names, and quotes them in every statement', () => {
    expect(loadConsumerConfig({ DATABASE_SCHEMA: 'analytics', DATABASE_TABLE: 'user_events' }).table).toEqual({
      schema: 'analytics',
      name: 'user_events',
    });
    for (const bad of ['UserActions', 'x; DROP TABLE y', '1table', 'a'.repeat(64), 'public.t']) {
      expect(() => loadConsumerConfig({ DATABASE_TABLE: bad }), bad).toThrow(/DATABASE_TABLE: must be a plain identifier/);
    }
    const sql = sqlFor({ schema: 'analytics', name: 'user_events' });
    expect(sql.insertFromStaging).toContain('INSERT INTO "analytics"."user_events"');
    expect(sql.adoptOriginalTable).toContain('ALTER SEQUENCE IF EXISTS "analytics"."user_events_id_seq" AS BIGINT');
    expect(sql.columns.values).toEqual(['analytics', 'user_events']);
  });
});
