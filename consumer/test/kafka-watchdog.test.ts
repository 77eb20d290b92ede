import { EventEmitter } from 'node:events';
import { Readiness } from '@user-actions/shared';
import type { Consumer } from 'kafkajs';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchKafkaAnswers } from '../src/loading/kafka-watchdog.js';
import { CONDITIONS } from '../src/readiness-conditions.js';

const EVENTS = { REQUEST: 'request', REBALANCING: 'rebalancing', GROUP_JOIN: 'group_join' } as const;

/** The consumer's instrumentation events, as kafkajs emits them. */
function fakeConsumer() {
  const emitter = new EventEmitter();
  const consumer = {
    events: EVENTS,
    on(event: string, listener: () => void) {
      emitter.on(event, listener);
      return () => emitter.off(event, listener);
    },
  } as unknown as Consumer;
  return { consumer, emit: (event: string) => emitter.emit(event) };
}

describe('watchKafkaAnswers', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const timeouts = { sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 60_000 };

  function watched() {
    const readiness = new Readiness({}, pino({ level: 'silent' }));
    const { consumer, emit } = fakeConsumer();
    const watch = watchKafkaAnswers(consumer, readiness, timeouts);
    const reason = () => readiness.check().find((condition) => condition.dependency === CONDITIONS.kafkaAnswers)?.reason;
    return { readiness, emit, watch, reason };
  }

  it('calls half a session without an answer silence', () => {
    const { readiness, emit, watch } = watched();
    emit(EVENTS.REQUEST);
    vi.advanceTimersByTime(4_000);
    expect(readiness.isMet(CONDITIONS.kafkaAnswers)).toBe(true);
    vi.advanceTimersByTime(2_000);
    expect(readiness.isMet(CONDITIONS.kafkaAnswers)).toBe(false);
    emit(EVENTS.REQUEST);
    vi.advanceTimersByTime(1_000);
    expect(readiness.isMet(CONDITIONS.kafkaAnswers)).toBe(true);
    watch.stop();
  });

  it('does not call a join the coordinator holds silence, until the rebalance timeout', () => {
    const { readiness, emit, watch, reason } = watched();
    emit(EVENTS.REBALANCING);
    vi.advanceTimersByTime(30_000);
    expect(readiness.isMet(CONDITIONS.kafkaAnswers)).toBe(true);
    vi.advanceTimersByTime(31_000);
    expect(reason()).toMatch(/held the group's join for 6\d s/);
    emit(EVENTS.GROUP_JOIN);
    vi.advanceTimersByTime(1_000);
    expect(readiness.isMet(CONDITIONS.kafkaAnswers)).toBe(true);
    // Joined: silence is silence again.
    vi.advanceTimersByTime(6_000);
    expect(reason()).toMatch(/has not answered for \d s/);
    watch.stop();
  });
});
