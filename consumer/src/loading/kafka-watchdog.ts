/**
 * Readiness while the broker is silent: a healthy consumer hears from Kafka at least every second (the
 * fetch's long poll, the heartbeats, which slow batches keep sending), so half a session timeout without
 * any answer means the group is about to count this consumer out. kafkajs' own request timeout ends each
 * silent request; this only says so while it lasts.
 *
 * A rebalance is the exception: the coordinator holds each member's JoinGroup until every member has
 * rejoined or the rebalance timeout has passed (a killed member is waited for until its session
 * expires), and meanwhile nothing else is asked. That silence is the protocol's, not a fault, up to the
 * rebalance timeout.
 */
import type { Readiness } from '@user-actions/shared';
import type { Consumer } from 'kafkajs';
import { CONDITIONS } from '../readiness-conditions.js';

export function watchKafkaAnswers(
  consumer: Consumer,
  readiness: Readiness,
  { sessionTimeoutMs, rebalanceTimeoutMs }: { sessionTimeoutMs: number; rebalanceTimeoutMs: number },
): { stop(): void } {
  let lastAnswer = Date.now();
  let joining = false;
  const heard = () => {
    lastAnswer = Date.now();
  };
  const removeListeners = [
    consumer.on(consumer.events.REQUEST, heard),
    consumer.on(consumer.events.REBALANCING, () => {
      joining = true;
      heard();
    }),
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joining = false;
      heard();
    }),
  ];
  const timer = setInterval(() => {
    const silentMs = Date.now() - lastAnswer;
    const seconds = Math.floor(silentMs / 1000);
    if (silentMs < (joining ? rebalanceTimeoutMs : sessionTimeoutMs / 2)) readiness.met(CONDITIONS.kafkaAnswers);
    else if (joining) readiness.unmetBecause(CONDITIONS.kafkaAnswers, `Kafka has held the group's join for ${seconds} s`);
    else readiness.unmetBecause(CONDITIONS.kafkaAnswers, `Kafka has not answered for ${seconds} s`);
  }, 1_000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      for (const remove of removeListeners) remove();
      readiness.met(CONDITIONS.kafkaAnswers);
    },
  };
}
