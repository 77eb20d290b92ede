/** Calls on the Kafka clients that must neither throw nor hold up a stop. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@user-actions/shared';
import type { Consumer } from 'kafkajs';

/** A client's disconnect, waited for at most `ms`: on a silent broker or a held join it could take much longer. */
export async function disconnectWithin(
  client: { disconnect(): Promise<void> },
  ms: number,
  logger: Logger,
  what: string,
): Promise<void> {
  const gaveUp = Symbol('gave up');
  const outcome = await Promise.race([client.disconnect(), sleep(ms, gaveUp, { ref: false })]);
  if (outcome === gaveUp) logger.warn({ waitedMs: ms }, `${what} still waits for the broker; stopping without it`);
}

/**
 * False when kafkajs refuses the seek, as it does while its consumer is not running (restarting after a
 * crash): the partition is checked again at the next tick, and the next assignment reads the table anyway.
 */
export function seekPartition(consumer: Consumer, topic: string, partition: number, offset: bigint): boolean {
  try {
    consumer.seek({ topic, partition, offset: offset.toString() });
    return true;
  } catch {
    return false;
  }
}
