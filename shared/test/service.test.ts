import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { abandonedOnAbort, startService, untilAborted } from '../src/service.js';

const logger = pino({ level: 'silent' });

describe('startService', () => {
  it('releases the parts in reverse order of their start when stopped, and resolves', async () => {
    const released: string[] = [];
    const service = startService(logger, async ({ signal, onStop }) => {
      onStop('a', () => released.push('a'));
      onStop('b', async () => {
        await sleep(5);
        released.push('b');
      });
      onStop('c', () => released.push('c'));
      await untilAborted(signal);
    });
    await sleep(10);
    await service.stop();
    expect(released).toEqual(['c', 'b', 'a']);
  });

  it('releases what had started when the start fails part-way, and rejects with that failure', async () => {
    const released: string[] = [];
    const service = startService(logger, async ({ onStop }) => {
      onStop('pool', () => released.push('pool'));
      throw new Error('PostgreSQL refused the password');
    });
    await expect(service.stopped).rejects.toThrow('PostgreSQL refused the password');
    expect(released).toEqual(['pool']);
  });

  it('runs every release even when one fails, and reports the first failure', async () => {
    const released: string[] = [];
    const service = startService(logger, async ({ signal, onStop }) => {
      onStop('a', () => released.push('a'));
      onStop('b', () => {
        throw new Error('b would not stop');
      });
      onStop('c', () => {
        throw new Error('c would not stop');
      });
      await untilAborted(signal);
    });
    await expect(service.stop()).rejects.toThrow('c would not stop');
    expect(released).toEqual(['a']);
  });

  it('aborts the signal before releasing the parts of a run that failed, so that no wait outlives its part', async () => {
    let abortedAtRelease: boolean | undefined;
    const service = startService(logger, async ({ signal, onStop }) => {
      onStop('pool', () => {
        abortedAtRelease = signal.aborted;
      });
      throw new Error('the loader failed');
    });
    await expect(service.stopped).rejects.toThrow('the loader failed');
    expect(abortedAtRelease).toBe(true);
  });

  it("keeps the run's failure over a release's", async () => {
    const service = startService(logger, async ({ onStop }) => {
      onStop('a', () => {
        throw new Error('release failed');
      });
      throw new Error('the run failed');
    });
    await expect(service.stopped).rejects.toThrow('the run failed');
  });

  it('a stop during the start abandons the wait in progress: stopped, not failed', async () => {
    const released: string[] = [];
    const service = startService(logger, async ({ signal, onStop }) => {
      onStop('ops server', () => released.push('ops server'));
      await sleep(60_000, undefined, { signal }); // as a wait for a broker that is not up yet
      onStop('never started', () => released.push('never started'));
    });
    const started = Date.now();
    await service.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(released).toEqual(['ops server']);
  });

  it('stop() may be called twice: one stop, the same outcome', async () => {
    let releases = 0;
    const service = startService(logger, async ({ signal, onStop }) => {
      onStop('a', () => releases++);
      await untilAborted(signal);
    });
    await Promise.all([service.stop(), service.stop()]);
    await service.stop();
    expect(releases).toBe(1);
  });
});

describe('abandonedOnAbort', () => {
  it('gives up waiting for work that would outlast a stop, with the abort, and passes through work that ends first', async () => {
    const controller = new AbortController();
    const endless = new Promise<never>(() => undefined); // a connection attempt with the client's own long retries
    const waiting = abandonedOnAbort(endless, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await expect(abandonedOnAbort(Promise.resolve('connected'), new AbortController().signal)).resolves.toBe('connected');
    await expect(abandonedOnAbort(Promise.reject(new Error('refused')), new AbortController().signal)).rejects.toThrow('refused');
  });
});
