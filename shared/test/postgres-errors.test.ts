import { describe, expect, it } from 'vitest';
import { ClassifiedError, classify, FATAL_CODES, FatalError, isRetryable } from '../src/errors.js';
import { WrongSessionError } from '../src/postgres/database-hosts.js';
import { isRowDataError, postgresVerdict, SilentConnectionError } from '../src/postgres/errors.js';

const classified = (error: unknown) => classify(error, postgresVerdict);

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
    expect(isRetryable(error, postgresVerdict)).toBe(true);
    expect(classified(error)).toMatchObject({ retryable: true, code: FATAL_CODES.outage });
  });

  it.each([
    ['a wrong password', withCode('28P01')],
    ['a missing database', withCode('3D000')],
    ['a missing permission', withCode('42501')],
    ['a syntax error', withCode('42601')],
    ['a TLS handshake refused', withCode('EPROTO')],
  ])('stops on %s, as PostgreSQL refusing', (_, error) => {
    expect(classified(error)).toMatchObject({ name: 'FatalError', retryable: false, code: FATAL_CODES.postgresRefused });
  });

  it.each([
    ['a certificate signed by an unknown CA', withCode('SELF_SIGNED_CERT_IN_CHAIN')],
    ['a certificate for another host', withCode('ERR_TLS_CERT_ALTNAME_INVALID')],
  ])('stops on %s, as a setting to fix', (_, error) => {
    expect(classified(error)).toMatchObject({ retryable: false, code: FATAL_CODES.misconfigured });
  });

  it("leaves a failure that is not PostgreSQL's as it is: a defect, reported whole", () => {
    const defect = new TypeError('rows is not iterable');
    expect(postgresVerdict(defect)).toBeUndefined();
    expect(classified(defect)).toBe(defect);
    expect(isRetryable(defect, postgresVerdict)).toBe(false);
  });

  it('explains fatal failures in terms of DATABASE_URL, with the SQLSTATE', () => {
    expect(classified(withCode('3D000', 'database "MyDb" does not exist')).message).toBe(
      'the database named in DATABASE_URL does not exist (3D000: database "MyDb" does not exist)',
    );
  });

  it('keeps the SQLSTATE and the failure reachable through the classified error', () => {
    const source = withCode('22007', 'invalid input syntax for type timestamp');
    const error = classified(source);
    expect(error).toBeInstanceOf(ClassifiedError);
    expect(error.cause).toBe(source);
    expect(isRowDataError(error)).toBe(true);
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

describe('classifying once', () => {
  it('passes a stop and an error already classified on as they are', () => {
    const stop = Object.assign(new Error('aborted'), { name: 'AbortError' });
    const fatal = new FatalError('METRICS_PORT is taken', { code: FATAL_CODES.portInUse });
    expect(classified(stop)).toBe(stop);
    expect(classified(fatal)).toBe(fatal);
    expect(classified(classified(withCode('28P01')))).toMatchObject({ code: FATAL_CODES.postgresRefused });
  });

  it('says what kind of outage it is, for /readyz and the summary log', () => {
    expect(classified(withCode('53100', 'could not extend file "base/1/2": No space left on device')).message).toBe(
      'PostgreSQL\'s disk is full: could not extend file "base/1/2": No space left on device',
    );
    expect(new SilentConnectionError('sent nothing for 35000 ms').message).toBe(
      'PostgreSQL does not answer (a network partition?): sent nothing for 35000 ms',
    );
    expect(classified(withCode('ECONNREFUSED', 'connect ECONNREFUSED')).message).toBe(
      'PostgreSQL unavailable: connect ECONNREFUSED',
    );
  });
});
