export {
  booleanSchema,
  ConfigError,
  commonSettings,
  type Env,
  envSchemaOf,
  integerSchema,
  kafkaNameSchema,
  type LogLevel,
  parseSettings,
  type Setting,
  type Settings,
  type SettingValues,
  setting,
} from './config.js';
export { countBy } from './count-by.js';
export { runDaemon } from './daemon.js';
export { type DaemonConfig, daemonSettings, parseDaemonSettings, startDaemonProcess } from './daemon-start.js';
export {
  ClassifiedError,
  classify,
  codeOf,
  FATAL_CODES,
  type FatalCode,
  FatalError,
  isAbortError,
  isRetryable,
  sourceOf,
  TransientError,
  toError,
  type Verdict,
  type VerdictOf,
} from './errors.js';
export { ACTIONS, type Action, parseUserActionEvent, type UserActionEvent } from './event/schema.js';
export { createKafka, type KafkaConnection, type KafkaMessageOut } from './kafka/client.js';
export { connectWithRetry } from './kafka/connect.js';
export { kafkaVerdict } from './kafka/errors.js';
export { answersLikeKafka, describeForeignReply } from './kafka/listener.js';
export { createReliableProducer, partitionFor, type ReliableProducer } from './kafka/reliable-producer.js';
export type { KafkaSecurity } from './kafka/security.js';
export { ensureTopic, topicEnds } from './kafka/topics.js';
export { LOG_EVENT } from './log-events.js';
export { createLogger, type Logger } from './logger.js';
export {
  createMetricsRegistry,
  exportReadiness,
  opsAnswer,
  Readiness,
  type ReadinessCheck,
  STOPPING,
  startOpsServer,
  type UnmetCondition,
} from './ops-server.js';
export { logRetries, sleep, withRetry } from './retry.js';
export {
  abandonedOnAbort,
  abortedAfter,
  runShutdownSteps,
  type Service,
  type ServiceContext,
  startService,
  untilAborted,
} from './service.js';
export { type SummaryLog, startSummaryLog } from './summary.js';
export { createThreadUtilization, type ThreadUtilization, type UtilizationSource } from './thread-utilization.js';
export { probe, TLS_VERIFICATION_CODES } from './wire-probe.js';
export { workerReplies } from './worker-replies.js';
