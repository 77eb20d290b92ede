/** Turns whatever a `catch` received into an Error, keeping the original as `cause` when it was not one. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value), { cause: value });
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * A failure that retrying will not fix (bad credentials, a missing database, no permission): the daemon
 * stops with this message and a non-zero exit code instead of retrying forever.
 */
export class FatalError extends Error {
  override readonly name: string = 'FatalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
