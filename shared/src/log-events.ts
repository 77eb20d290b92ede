/**
 * The log lines that operators' tooling and the tests key on, by a stable name in the line's `event`
 * field: the message text beside it is for people and may change.
 */
export const LOG_EVENT = {
  stopped: 'stopped',
  fatal: 'fatal',
  serving: 'serving',
  waitingForKafka: 'waiting-for-kafka',
  waitingForPostgres: 'waiting-for-postgres',
  tableReady: 'table-ready',
  consuming: 'consuming',
  connectedToKafka: 'connected-to-kafka',
  loaderSummary: 'loader-summary',
  producerSummary: 'producer-summary',
  apiSummary: 'api-summary',
  stoppedGenerating: 'stopped-generating',
  /** At debug level: the ids of every batch of events the broker acknowledged (audits, the fault suite). */
  acknowledged: 'acknowledged',
  deadLettersReplayed: 'dead-letters-replayed',
  /** At each assignment: the partitions' offsets in PostgreSQL, where they start. */
  startingAtStoredOffsets: 'starting-at-stored-offsets',
  /** A batch did not continue the table: its partition is read again from PostgreSQL's offset. */
  movedToStoredOffset: 'moved-to-stored-offset',
  /** The table lost events this consumer had stored (no batch needed to find it): they are read again. */
  storedOffsetBehind: 'stored-offset-behind',
  /** A dependency that was working is not (readiness lost), once per outage. */
  notReady: 'not-ready',
  /** The dependency works again, with how long it did not. */
  readyAgain: 'ready-again',
  /** Events missing from PostgreSQL that Kafka no longer holds. */
  eventsLost: 'events-lost',
} as const;

export type LogEvent = (typeof LOG_EVENT)[keyof typeof LOG_EVENT];
