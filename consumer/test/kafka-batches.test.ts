/**
 * kafkajs' `eachBatch` on top of the exactly-once core, with a fake decoding thread, fake ports and fake
 * kafkajs payloads: it fetches one batch ahead per partition and no more, and skips what it must.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { DecodedRows } from '../src/decoding/message-packing.js';
import type { BatchDecoder } from '../src/loading/batch-decoder.js';
import type { LoaderObserver } from '../src/loading/batch-observer.js';
import { createKafkaBatches } from '../src/loading/kafka-batches.js';
import type { BatchPorts } from '../src/loading/store-batch.js';

const tick = () => new Promise((done) => setTimeout(done, 5));

const decoder = (decode: BatchDecoder['decode'] = async () => noRows()): BatchDecoder => ({
  decode,
  utilization: () => ({ active: 0, idle: 0 }) as never,
  stop: async () => undefined,
});

function noRows(): DecodedRows {
  return {
    rows: { text: new Uint8Array(0), bounds: Uint32Array.of(0), seconds: new Float64Array(0), actions: new Uint8Array(0) },
    sources: new Uint32Array(0),
    eventTimes: new Float64Array(0),
    actions: [],
    deadLetters: [],
  };
}

const observer: LoaderObserver = {
  decoded: () => undefined,
  stored: () => undefined,
  deadLettered: () => undefined,
  committed: () => undefined,
  kafkaCommitFailed: () => undefined,
  movedTo: () => undefined,
  eventsLost: () => undefined,
};

function payload(partition: number, lastOffset: number, stale: () => boolean = () => false) {
  const resolved: string[] = [];
  const messages = [{ offset: String(lastOffset) }] as KafkaMessage[];
  const value = {
    batch: {
      topic: 'user-actions',
      partition,
      messages,
      fetchedOffset: String(lastOffset),
      highWatermark: String(lastOffset + 1),
      isEmpty: () => false,
      lastOffset: () => String(lastOffset),
    },
    isStale: stale,
    heartbeat: async () => undefined,
    resolveOffset: (offset: string) => resolved.push(offset),
  } as unknown as EachBatchPayload;
  return { value, resolved };
}

/** Ports whose store of each batch waits until the test lets it finish. */
function heldPorts() {
  const held: (() => void)[] = [];
  const commits: string[] = [];
  const ports: BatchPorts = {
    store: (rows) =>
      new Promise((resolve) =>
        held.push(() => resolve({ inserted: rows.length, expired: 0, deadLetters: [], move: { moved: true } })),
      ),
    moveOffset: async () => ({ moved: true }),
    deadLetter: async () => undefined,
    commit: async (_topic, partition, offset) => {
      commits.push(`${partition}@${offset}`);
    },
    logStart: async () => 0n,
    seek: () => undefined,
    guard: { record: (messages, deadLetters) => ({ tripped: false, messages, deadLetters, share: 0 }) },
    onLostEvents: 'stop',
  };
  return { ports, held, commits };
}

function start(ports: BatchPorts, options: { decoder?: BatchDecoder; onFatal?: (error: Error) => void } = {}) {
  const { decoder: decoding = decoder(), onFatal = () => undefined } = options;
  return createKafkaBatches({ decoder: decoding, ports, observer, signal: new AbortController().signal, onFatal });
}

describe("kafkajs' eachBatch", () => {
  it('returns for the first batch while it is stored, and for the next only once the first is committed', async () => {
    const { ports, held, commits } = heldPorts();
    const batches = start(ports);
    const first = payload(0, 9);
    await batches.eachBatch(first.value); // kafkajs may fetch the next batch now
    expect(first.resolved).toEqual(['9']);
    expect(commits).toEqual([]);

    let secondReturned = false;
    const second = batches.eachBatch(payload(0, 19).value).then(() => {
      secondReturned = true;
    });
    await tick();
    expect(secondReturned).toBe(false);
    held.shift()?.();
    await second;
    expect(commits).toEqual(['0@10']);

    await tick();
    held.shift()?.();
    await batches.drain();
    expect(commits).toEqual(['0@10', '0@20']);
  });

  it('lets another partition store while the first is held', async () => {
    const { ports, held, commits } = heldPorts();
    const batches = start(ports);
    await batches.eachBatch(payload(0, 9).value);
    await batches.eachBatch(payload(1, 4).value);
    await tick();
    held[1]?.();
    await tick();
    expect(commits).toEqual(['1@5']);
    held[0]?.();
    await batches.drain();
    expect(commits).toEqual(['1@5', '0@10']);
  });

  it('neither stores nor moves past a batch whose partition was reassigned while it was decoded', async () => {
    const { ports, held, commits } = heldPorts();
    let stale = false;
    const slowDecoder = decoder(async () => {
      stale = true;
      return noRows();
    });
    const batches = start(ports, { decoder: slowDecoder });
    const batch = payload(0, 9, () => stale);
    await batches.eachBatch(batch.value);
    await batches.drain();
    expect(held).toHaveLength(0);
    expect(batch.resolved).toEqual([]);
    expect(commits).toEqual([]);
  });

  it('stops the consumer, committing nothing, when the decoding thread fails', async () => {
    const { ports, commits } = heldPorts();
    const fatal: unknown[] = [];
    const broken = decoder(async () => Promise.reject(new Error('the decoding thread exited')));
    const batches = start(ports, { decoder: broken, onFatal: (error) => fatal.push(error) });
    const batch = payload(0, 9);
    await batches.eachBatch(batch.value);
    expect(fatal).toMatchObject([{ message: 'the decoding thread exited' }]);
    expect(batch.resolved).toEqual([]);
    expect(commits).toEqual([]);
  });
});
