import { describe, expect, it } from 'vitest';
import { runPacer } from '../src/pacer.js';

const generate = async (count: number) => Array.from({ length: count }, () => 'event');

describe('the pacer', () => {
  it('sends exactly `count` events and returns', async () => {
    const sends: number[] = [];
    const sent = await runPacer({
      intervalMs: 0,
      count: 1_234,
      signal: new AbortController().signal,
      generate,
      send: async (events) => void sends.push(events.length),
      maxEventsPerSend: 500,
    });
    expect(sent).toBe(1_234);
    expect(sends).toEqual([500, 500, 234]);
  });

  it('as fast as possible, generates the batch after next while a batch is being sent', async () => {
    let generateCalls = 0;
    const callsWhenSendsEnded: number[] = [];
    await runPacer({
      intervalMs: 0,
      count: 2_000,
      signal: new AbortController().signal,
      generate: async (count) => {
        generateCalls += 1;
        return generate(count);
      },
      send: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        callsWhenSendsEnded.push(generateCalls);
      },
      maxEventsPerSend: 500,
    });
    // Four batches: while the first is sent, the second is ready and the third is being generated.
    expect(callsWhenSendsEnded).toEqual([3, 4, 4, 4]);
  });

  it('sends the events that fell due during a slow send together, keeping the rate', async () => {
    let clock = 0;
    const sends: number[] = [];
    await runPacer({
      intervalMs: 10,
      count: 25,
      signal: new AbortController().signal,
      generate,
      send: async (events) => {
        sends.push(events.length);
        clock += 100; // each send takes as long as ten intervals
      },
      now: () => clock,
    });
    expect(sends).toEqual([1, 10, 10, 4]);
  });

  it('stops when the signal aborts, after the send in flight completes', async () => {
    const controller = new AbortController();
    let completed = 0;
    const sent = await runPacer({
      intervalMs: 1,
      count: 0,
      signal: controller.signal,
      generate,
      send: async (events) => {
        if (completed >= 3) controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 2));
        completed += events.length;
      },
    });
    expect(sent).toBe(completed);
    expect(controller.signal.aborted).toBe(true);
  });
});
