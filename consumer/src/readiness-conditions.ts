/**
 * The consumer's readiness conditions, by the name `/readyz` reports them under: each dependency's
 * outage (its calls fail), and its silence (a call has waited several seconds for an answer).
 */
export const CONDITIONS = {
  postgres: 'postgres',
  postgresAnswers: 'postgres-answers',
  kafka: 'kafka',
  kafkaAnswers: 'kafka-answers',
} as const;
