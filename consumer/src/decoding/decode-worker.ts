/**
 * The consumer's decoding thread: parses, validates and encodes each batch as COPY text while the
 * loader's thread fetches, stores and commits. Its garbage (a parsed object and a few strings per event)
 * dies young on a heap of its own, instead of making the loader's thread copy the batches it holds.
 */
import { parentPort } from 'node:worker_threads';
import { decodeMessages, type PackedMessages } from './message-packing.js';

const port = parentPort;
if (!port) throw new Error('decode-worker.js runs as a worker thread of the consumer');

port.on('message', (messages: PackedMessages) => {
  const decoded = decodeMessages(messages);
  const { rows, sources, eventTimes } = decoded;
  port.postMessage(decoded, [
    rows.text.buffer,
    rows.bounds.buffer,
    rows.seconds.buffer,
    rows.actions.buffer,
    sources.buffer,
    eventTimes.buffer,
  ]);
});
