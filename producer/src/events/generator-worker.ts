/**
 * The event generator's own thread: it simulates and serialises the next events while the main thread
 * sends the previous ones, so that generation is never what limits the load mode.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { encodeEvents, READY } from './event-batch.js';
import { createEventGenerator, type EventGeneratorOptions } from './generator.js';

const port = parentPort;
if (!port) throw new Error('generator-worker.js runs as a worker thread of the producer');

const generate = createEventGenerator(workerData as EventGeneratorOptions);
// Building the population takes a moment; the producer starts its schedule only after this.
port.postMessage(READY);
port.on('message', (count: number) => {
  const batch = encodeEvents(Array.from({ length: count }, generate));
  port.postMessage(batch, [batch.json.buffer, batch.ends.buffer]);
});
