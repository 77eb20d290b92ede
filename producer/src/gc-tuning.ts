/**
 * On Node.js 24 (V8 13) the producer's main thread ran 20 full garbage collections per million events
 * where Node.js 20 ran 2: the batches' buffers (handed over by the generator thread, concatenated by the
 * Kafka client) are external memory, and V8 starts a full collection whenever that grows by a fixed
 * step, whatever the heap's size. Counted against the heap's own limit instead, it runs 10, and the load
 * mode is 5-10% faster (docs/benchmarks.md). Set here rather than on the command line because Node.js
 * 22 (V8 12) does not know the flag and would refuse to start.
 */
import { setFlagsFromString } from 'node:v8';

const V8_MAJOR = Number(process.versions.v8.split('.')[0]);
if (V8_MAJOR >= 13) setFlagsFromString('--external-memory-accounted-in-global-limit');
