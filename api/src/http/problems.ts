/**
 * Every error the API answers is RFC 9457 `application/problem+json`: a client reads `status`, `title`,
 * `detail`, and for a bad request the `parameter` at fault. A bad request is always a 400 of ours,
 * never a 500; PostgreSQL away or a query past its timeout is a 503 with `Retry-After`.
 */
import { isRetryable, toError } from '@user-actions/shared/errors';
import { postgresVerdict } from '@user-actions/shared/postgres/errors';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export const PROBLEM_TYPE = 'application/problem+json';

/** Seconds a client should wait before it asks again while PostgreSQL is away. */
export const RETRY_AFTER_SECONDS = 5;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  parameter?: string;
  instance?: string;
}

/** A request the API refuses, with what to fix. */
export class Problem extends Error {
  override readonly name = 'Problem';
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly parameter?: string,
  ) {
    super(detail);
  }

  body(instance?: string): ProblemBody {
    return {
      type: 'about:blank',
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(this.parameter !== undefined && { parameter: this.parameter }),
      ...(instance !== undefined && { instance }),
    };
  }
}

export const badParameter = (parameter: string, detail: string) => new Problem(400, 'Bad parameter', detail, parameter);

export const unauthorized = (detail: string) => new Problem(401, 'Unauthorized', detail);

const unavailable = () =>
  new Problem(503, 'Service unavailable', `PostgreSQL did not answer in time; try again in ${RETRY_AFTER_SECONDS} s`);

export function sendProblem(reply: FastifyReply, problem: Problem, instance?: string): FastifyReply {
  if (problem.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(problem.status).type(PROBLEM_TYPE).send(problem.body(instance));
}

/** What Fastify's schema validation reports, turned into the parameter at fault and why. */
function validationProblem(error: FastifyError): Problem {
  const first = error.validation?.[0];
  const path = (first?.instancePath ?? '').split('/').filter(Boolean);
  const parameter = path[0] ?? String((first?.params as { missingProperty?: string } | undefined)?.missingProperty ?? 'query');
  return badParameter(parameter, `${parameter}: ${first?.message ?? error.message}`);
}

/** The error handler: every failure becomes a problem; only the unforeseen ones are logged as errors. */
export function problemFrom(caught: unknown, request: FastifyRequest): Problem {
  if (caught instanceof Problem) return caught;
  const error = toError(caught) as FastifyError;
  if (error.validation) return validationProblem(error);
  if (error.statusCode === 429) return new Problem(429, 'Too many requests', error.message);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new Problem(error.statusCode, 'Bad request', error.message);
  }
  if (isRetryable(error, postgresVerdict)) {
    request.log.warn({ err: error }, 'PostgreSQL unavailable');
    return unavailable();
  }
  request.log.error({ err: error }, 'request failed');
  return new Problem(500, 'Internal error', 'the request failed; the log says why');
}
