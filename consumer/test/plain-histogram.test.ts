import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PlainHistogram } from '../src/plain-histogram.js';

const options = { name: 'delay_seconds', help: 'A delay', buckets: [0.005, 0.1, 1, 60] };

function both() {
  const expected = new Registry();
  const actual = new Registry();
  return {
    reference: new Histogram({ ...options, registers: [expected] }),
    plain: new PlainHistogram({ ...options, registers: [actual] }),
    expected,
    actual,
  };
}

describe('a histogram observed for every event', () => {
  it('exposes exactly what prom-client’s Histogram exposes for the same observations', async () => {
    const { reference, plain, expected, actual } = both();
    expect(await actual.metrics()).toBe(await expected.metrics());
    for (const value of [0, 0.005, 0.0051, 0.05, 0.1, 0.99, 1, 59.9, 60, 61, 3600]) {
      reference.observe(value);
      plain.observe(value);
    }
    expect(await actual.metrics()).toBe(await expected.metrics());
  });

  it('starts again from zero when the registry is reset', async () => {
    const { reference, plain, expected, actual } = both();
    plain.observe(2);
    reference.observe(2);
    actual.resetMetrics();
    expected.resetMetrics();
    plain.observe(0.5);
    reference.observe(0.5);
    expect(await actual.metrics()).toBe(await expected.metrics());
  });
});
