export {
  booleanSchema,
  ConfigError,
  commonSettings,
  type Env,
  envSchemaOf,
  integerSchema,
  kafkaNameSchema,
  LOG_LEVELS,
  type LogLevel,
  loadDotenv,
  parseSettings,
  type Setting,
  type Settings,
  type SettingValues,
  setting,
} from './config.js';
export { countBy } from './count-by.js';
export { EXIT_CODES, exitWithHelpIfAsked, loadConfigOrExit, runDaemon, runShutdownSteps } from './daemon.js';
export { FatalError, isAbortError, toError } from './errors.js';
export { formatHelp } from './help.js';
export {
  connectWithRetry,
  createKafka,
  ensureTopic,
  isKafkaClientError,
  isTransientKafkaError,
  type KafkaMessageOut,
  type TopicSpec,
  topicEnds,
} from './kafka.js';
export { answersLikeKafka, describeForeignReply, kafkaConfigurationProblem } from './kafka-listener.js';
export {
  type KafkaSecurity,
  kafkaSecurityFrom,
  kafkaSecurityProblems,
  kafkaSecuritySettings,
  SASL_MECHANISMS,
  type SaslMechanism,
} from './kafka-security.js';
export { createLogger, type Logger } from './logger.js';
export { createMetricsRegistry, type OpsServer, Readiness, type ReadinessCheck, startOpsServer } from './ops-server.js';
export { createReliableProducer, needsNewProducerId, partitionFor, type ReliableProducer } from './producer.js';
export { backoffDelayMs, logRetries, OutageError, type RetryOptions, sleep, withRetry } from './retry.js';
export {
  ACTIONS,
  type Action,
  type ParseResult,
  parseUserActionEvent,
  type UserActionEvent,
  userActionEventSchema,
} from './schema.js';
export { type SummaryLog, startSummaryLog } from './summary.js';
export { createThreadUtilization, type ThreadUtilization, type UtilizationSource } from './thread-utilization.js';
export { type Endpoint, type ProbeOutcome, parseEndpoint, probe } from './wire-probe.js';
export { type WorkerReplies, workerReplies } from './worker-replies.js';
