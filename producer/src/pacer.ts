/**
 * Emits events on a fixed schedule: one every `intervalMs`, measured from the start so that slow sends
 * do not make the rate drift. Events that fall due while a send is in flight go out together in the next
 * send, which keeps high rates cheap.
 */
import { isAbortError, sleep } from '@user-actions/shared';

export interface PacerOptions<Events extends { readonly length: number }> {
  intervalMs: number;
  /** Stop after this many events; 0 = until the signal aborts. */
  count: number;
  signal: AbortSignal;
  /** The next `count` events. */
  generate: (count: number) => Promise<Events>;
  send: (events: Events) => Promise<void>;
  maxEventsPerSend?: number;
  now?: () => number;
}

// Large sends amortise the per-request cost (kafkajs sent about 20% more events/s than at 500), but one
// partition's share must stay under the broker's 1 MiB message.max.bytes even if every event hashed
// to it: 1,500 events of up to about 600 bytes do.
const MAX_EVENTS_PER_SEND = 1_500;

/**
 * Runs until `count` events are sent or the signal aborts; the send in flight always completes. The
 * next events are generated while the previous send is in flight, but sends never overlap, so that
 * each user's events reach their partition in order. As fast as possible (`intervalMs` 0), the batch
 * after next is asked for as soon as the next one arrives, so that generating never waits for sending;
 * on a schedule it is not, because an event's timestamp is taken when it is generated.
 */
export async function runPacer<Events extends { readonly length: number }>(options: PacerOptions<Events>): Promise<number> {
  const {
    intervalMs,
    count,
    signal,
    generate,
    send,
    maxEventsPerSend = MAX_EVENTS_PER_SEND,
    now = performance.now.bind(performance),
  } = options;
  const startedAt = now();
  let generated = 0;
  let sent = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let ahead: Promise<Events> | undefined;
  const nextSize = (due: number) => Math.min(due, maxEventsPerSend, count === 0 ? Number.POSITIVE_INFINITY : count - generated);
  while (!signal.aborted && (count === 0 || generated < count)) {
    const due = intervalMs === 0 ? maxEventsPerSend : Math.floor((now() - startedAt) / intervalMs) + 1 - generated;
    if (due <= 0) {
      try {
        await sleep(startedAt + generated * intervalMs - now(), signal);
      } catch (error) {
        if (isAbortError(error)) break;
        throw error;
      }
      continue;
    }
    const events = await (ahead ?? generate(nextSize(due)));
    generated += events.length;
    ahead = intervalMs === 0 && (count === 0 || generated < count) ? generate(nextSize(due)) : undefined;
    // Never awaited if the signal aborts first: its events are simply not sent.
    ahead?.catch(() => undefined);
    await inFlight;
    inFlight = send(events).then(() => {
      sent += events.length;
    });
    // A failure surfaces at the next await of inFlight, not as an unhandled rejection meanwhile.
    inFlight.catch(() => undefined);
  }
  await inFlight;
  return sent;
}
