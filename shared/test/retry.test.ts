import { describe, expect, it, vi } from 'vitest';
import { backoffDelayMs, OutageError, withRetry } from '../src/retry.js';

const fast = { initialDelayMs: 1, maxDelayMs: 4 };
const transient = () => Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });

describe('backoff', () => {
  it('grows exponentially, is capped, and is jittered between half and all of the step', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelayMs(0, options, () => 0)).toBe(50);
    expect(backoffDelayMs(0, options, () => 1)).toBe(100);
    expect(backoffDelayMs(3, options, () => 1)).toBe(800);
    expect(backoffDelayMs(10, options, () => 1)).toBe(1_000);
    expect(backoffDelayMs(1_000, options, () => 0.5)).toBe(750);
  });
});

describe('withRetry', () => {
  it('retries retryable failures until the operation succeeds', async () => {
    const operation = vi.fn().mockRejectedValueOnce(transient()).mockRejectedValueOnce(transient()).mockResolvedValue('done');
    const onRetry = vi.fn();
    await expect(withRetry(operation, { ...fast, isRetryable: () => true, onRetry })).resolves.toBe('done');
    expect(operation).toHaveBeenCalledTimes(3);
    expect(onRetry).toHaveBeenCalledTimes(2);
  });

  it('throws a non-retryable failure at once', async () => {
    const operation = vi.fn().mockRejectedValue(new Error('password authentication failed'));
    await expect(withRetry(operation, { ...fast, isRetryable: () => false })).rejects.toThrow('password');
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('stops waiting as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const retrying = withRetry(() => Promise.reject(transient()), {
      initialDelayMs: 60_000,
      maxDelayMs: 60_000,
      isRetryable: () => true,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(retrying).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up with the last error after maxElapsedMs', async () => {
    await expect(
      withRetry(() => Promise.reject(transient()), { ...fast, isRetryable: () => true, maxElapsedMs: 30 }),
    ).rejects.toThrow('connection refused');
  });

  it('names the outage and the setting that bounds it when told what stayed unreachable', async () => {
    const outage = { what: 'PostgreSQL', setting: 'MAX_OUTAGE_MS' };
    const giving = withRetry(() => Promise.reject(transient()), { ...fast, isRetryable: () => true, maxElapsedMs: 30, outage });
    await expect(giving).rejects.toBeInstanceOf(OutageError);
    await expect(giving).rejects.toMatchObject({ code: 'outage' });
    await expect(giving).rejects.toThrow('PostgreSQL stayed unreachable for longer than MAX_OUTAGE_MS (30 ms)');
  });
});
