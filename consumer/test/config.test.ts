import { ConfigError } from '@user-actions/shared';
import { describe, expect, it } from 'vitest';
import { loadConsumerConfig, withCaFile } from '../src/config.js';

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
});
