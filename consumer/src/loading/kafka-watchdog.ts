/**
 * Readiness while the broker is silent: a healthy consumer hears from Kafka at least every second (the
 * fetch's long poll, the heartbeats, which slow batches keep sending), so half a session timeout without
 * any answer means the group is about to count this consumer out. kafkajs' own request timeout ends each
 * silent request; this only says so while it lasts.
 */
import type { Readiness } from '@user-actions/shared';
import type { Consumer } from 'kafkajs';
import { CONDITIONS } from '../readiness-conditions.js';

export function watchKafkaAnswers(consumer: Consumer, readiness: Readiness, sessionTimeoutMs: number): { stop(): void } {
  const quietMs = sessionTimeoutMs / 2;
  let lastAnswer = Date.now();
  const removeListener = consumer.on(consumer.events.REQUEST, () => {
    lastAnswer = Date.now();
  });
  const timer = setInterval(() => {
    const silentMs = Date.now() - lastAnswer;
    if (silentMs < quietMs) readiness.met(CONDITIONS.kafkaAnswers);
    else readiness.unmetBecause(CONDITIONS.kafkaAnswers, `Kafka has not answered for ${Math.floor(silentMs / 1000)} s`);
  }, 1_000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      removeListener();
      readiness.met(CONDITIONS.kafkaAnswers);
    },
  };
}
