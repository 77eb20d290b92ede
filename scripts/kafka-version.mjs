// The Apache Kafka version everything here runs: KAFKA_VERSION if set (the 3.9 compatibility set sets
// it), else the one scripts/kafka/pom.xml names, which scripts/kafka.sh reads the same way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function kafkaVersion() {
  if (process.env.KAFKA_VERSION) return process.env.KAFKA_VERSION;
  const pom = readFileSync(new URL('kafka/pom.xml', import.meta.url), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (!version) throw new Error('scripts/kafka/pom.xml names no kafka.version');
  return version;
}

/**
 * Throws unless the broker whose state is in `stateDir` (scripts/kafka.sh's KAFKA_STATE_DIR) runs
 * `kafkaVersion()`: a compatibility run must not pass on another version.
 * @param {string} stateDir
 */
export function assertBrokerVersion(stateDir) {
  const log = readFileSync(join(stateDir, 'server.log'), 'utf8');
  const running = /Kafka version: (\S+)/.exec(log)?.[1];
  if (running !== kafkaVersion()) throw new Error(`the broker in ${stateDir} runs Kafka ${running}, not ${kafkaVersion()}`);
}
