import { describe, expect, it } from 'vitest';
import { FATAL_CODES, FatalError } from '../src/errors.js';
import { WrongSessionError } from '../src/postgres/database-hosts.js';
import {
  givingUp,
  isRowDataError,
  isTransientPgError,
  outageReason,
  SilentConnectionError,
  toFatalPgError,
} from '../src/postgres/errors.js';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('classifying PostgreSQL failures', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED')],
    ['connection reset', withCode('ECONNRESET')],
    ['host not resolvable yet (a container starting)', withCode('ENOTFOUND')],
    ['connection failure (class 08)', withCode('08006')],
    ['too many connections (class 53)', withCode('53300')],
    ['admin shutdown', withCode('57P01')],
    ['crash shutdown', withCode('57P02')],
    ['server starting up', withCode('57P03')],
    ['serialization failure', withCode('40001')],
    ['deadlock', withCode('40P01')],
    ['a dropped socket', new Error('Connection terminated unexpectedly')],
    ['a slow connect', new Error('timeout exceeded when trying to connect')],
    ['every address refused', new AggregateError([withCode('ECONNREFUSED')], '')],
    ['a pooled connection that broke', new Error('Client has encountered a connection error and is not queryable')],
    ['a host that is a standby (the next host is tried)', new WrongSessionError('PostgreSQL at db1:5432 is read-only')],
    ['a write on a primary that came back as a standby', withCode('25006')],
    ['a statement past DATABASE_STATEMENT_TIMEOUT_MS', withCode('57014')],
    ['a full disk', withCode('53100')],
    ['a lock not had within lock_timeout (partition maintenance)', withCode('55P03')],
    ['a connection that went silent', new SilentConnectionError('PostgreSQL at db1:5432 sent nothing for 35000 ms')],
  ])('retries %s', (_, error) => {
    expect(isTransientPgError(error)).toBe(true);
  });

  it.each([
    ['a wrong password', withCode('28P01')],
    ['a missing database', withCode('3D000')],
    ['a missing permission', withCode('42501')],
    ['a syntax error', withCode('42601')],
    ['an unknown error', new Error('something else')],
  ])('does not retry %s', (_, error) => {
    expect(isTransientPgError(error)).toBe(false);
  });

  it('explains fatal failures in terms of DATABASE_URL', () => {
    expect(toFatalPgError(withCode('3D000', 'database "MyDb" does not exist')).message).toBe(
      'the database named in DATABASE_URL does not exist (3D000: database "MyDb" does not exist)',
    );
  });
});

describe('recognising a row PostgreSQL cannot store', () => {
  it.each(['22008', '22P02', '23502', '23514', '54000'])('SQLSTATE %s is about the data', (code) => {
    expect(isRowDataError(withCode(code))).toBe(true);
  });

  it.each(['08006', '28P01', '42501', '57P01'])('SQLSTATE %s is not', (code) => {
    expect(isRowDataError(withCode(code))).toBe(false);
  });
});

describe('giving up on a PostgreSQL operation', () => {
  it('passes a stop and a FatalError on as they are, and makes any other failure say what to fix', () => {
    const stop = Object.assign(new Error('aborted'), { name: 'AbortError' });
    const fatal = new FatalError('METRICS_PORT is taken', { code: FATAL_CODES.portInUse });
    expect(givingUp(stop)).toBe(stop);
    expect(givingUp(fatal)).toBe(fatal);
    expect(givingUp(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toMatchObject({
      code: FATAL_CODES.postgresRefused,
      message: expect.stringContaining('PostgreSQL rejected the password'),
    });
  });

  it('says what kind of outage it is, for /readyz and the summary log', () => {
    expect(outageReason(withCode('53100', 'could not extend file "base/1/2": No space left on device'))).toBe(
      'PostgreSQL\'s disk is full: could not extend file "base/1/2": No space left on device',
    );
    expect(outageReason(new SilentConnectionError('sent nothing for 35000 ms'))).toBe(
      'PostgreSQL does not answer (a network partition?): sent nothing for 35000 ms',
    );
    expect(outageReason(withCode('ECONNREFUSED', 'connect ECONNREFUSED'))).toBe('PostgreSQL unavailable: connect ECONNREFUSED');
  });
});
