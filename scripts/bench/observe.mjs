// Following the daemons while a phase runs: their metrics, progress lines, the run's timeline, and
// latency quantiles as Prometheus computes them.
import { setTimeout as sleep } from 'node:timers/promises';
import { SAMPLE_MS } from './settings.mjs';

/** @typedef {{ le: number, count: number }} Bucket */
/** @typedef {{ at: number, value: number, rss: number }} Sample */

/** Every sample of every phase, for the throughput chart: seconds since the run began, events/s. */
/** @type {{ seconds: number, rate: number, series: string }[]} */
export const timeline = [];
const runStartedAt = performance.now();

/** @param {string} line */
export function say(line) {
  process.stdout.write(`${line}\n`);
}

/** A daemon's Prometheus metrics, each series' value summed over its labels. */
/** @param {number} port */
export async function scrape(port) {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  /** @type {Map<string, number>} */
  const metrics = new Map();
  /** @type {Bucket[]} */
  const buckets = [];
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^([a-z_:]+)(\{[^}]*\})? ([-+0-9.eE]+|NaN)$/i.exec(line);
    if (!match) continue;
    const [, name = '', labels = '', value = '0'] = match;
    metrics.set(name, (metrics.get(name) ?? 0) + Number(value));
    if (name === 'user_actions_event_delay_seconds_bucket') {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: Number(value) });
    }
  }
  return { get: (/** @type {string} */ name) => metrics.get(name) ?? 0, buckets };
}

/** @param {number} port */
export async function scrapeWhenUp(port, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await scrape(port);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** @param {number} port */
export async function waitReady(port) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`the daemon on port ${port} did not become ready within 60 s`);
}

/**
 * Samples a counter until `done`, printing progress each second; returns the rate between the first
 * sample that moved and the sample that finished (start-up time excluded), and the samples.
 */
/**
 * @param {{ phase: string, port: number, metric: string, done: (value: number) => Promise<boolean>, extra?: (sample: Sample) => string }} options
 */
export async function followCounter({ phase, port, metric, done, extra = () => '' }) {
  /** @type {Sample[]} */
  const samples = [];
  let last = { at: performance.now(), value: 0 };
  for (;;) {
    await sleep(SAMPLE_MS);
    let metrics;
    try {
      metrics = await scrape(port);
    } catch {
      if (await done(samples.at(-1)?.value ?? 0)) break; // the daemon finished and left
      continue;
    }
    const sample = { at: performance.now(), value: metrics.get(metric), rss: metrics.get('process_resident_memory_bytes') };
    samples.push(sample);
    // Progress and the chart use one-second windows: a 250 ms window mostly shows batch boundaries.
    if (sample.at - last.at >= 1000) {
      const rate = ((sample.value - last.value) * 1000) / (sample.at - last.at);
      timeline.push({ seconds: (sample.at - runStartedAt) / 1000, rate, series: phase });
      say(`  [${phase}] ${sample.value.toLocaleString('en')} events  ${Math.round(rate).toLocaleString('en')}/s${extra(sample)}`);
      last = sample;
    }
    if (await done(sample.value)) break;
  }
  const first = samples.find((sample) => sample.value > 0);
  const end = samples.at(-1);
  if (!first || !end || end === first) return { eps: 0, samples };
  // The first moving sample stands for up to one interval of work: count it from one interval earlier.
  const seconds = (end.at - first.at + SAMPLE_MS) / 1000;
  return { eps: end.value / seconds, samples };
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket that holds the quantile. */
/** @param {number} quantile @param {Bucket[]} buckets */
export function histogramQuantile(quantile, buckets) {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = quantile * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return previous.le;
      const inBucket = bucket.count - previous.count;
      return previous.le + (bucket.le - previous.le) * (inBucket === 0 ? 0 : (rank - previous.count) / inBucket);
    }
    previous = bucket;
  }
  return previous.le;
}

/** What a cumulative histogram counted between two scrapes. @param {Bucket[]} now @param {Bucket[]} then */
export function bucketsSince(now, then) {
  const before = new Map(then.map((bucket) => [bucket.le, bucket.count]));
  return now.map((bucket) => ({ le: bucket.le, count: bucket.count - (before.get(bucket.le) ?? 0) }));
}
