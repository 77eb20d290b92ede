import { setTimeout as delay } from 'node:timers/promises';

/** Polls `probe` until `done` holds for its value; fails with the last value seen, so a timeout explains itself. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  { timeoutMs = 60_000, intervalMs = 200, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)}`);
    }
    await delay(intervalMs);
  }
}

/** Waits until `probe` returns the same value for `stableMs`: the system has settled. */
export async function waitUntilStable<T>(probe: () => Promise<T>, { stableMs = 2_000, timeoutMs = 60_000 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  let since = Date.now();
  while (Date.now() - since < stableMs) {
    if (Date.now() > deadline) throw new Error(`value did not settle within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await delay(200);
    const value = await probe();
    if (JSON.stringify(value) !== JSON.stringify(last)) {
      last = value;
      since = Date.now();
    }
  }
  return last;
}

/** Resolves once `url` answers 2xx (a server's readiness endpoint); refused connections are waited out. */
export async function waitForHttpOk(url: string, what: string): Promise<void> {
  await waitFor(
    () =>
      fetch(url).then(
        (response) => response.ok,
        () => false,
      ),
    (ready) => ready,
    { what },
  );
}
