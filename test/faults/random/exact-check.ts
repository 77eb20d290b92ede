/**
 * The end of a long run, checked exactly and in PostgreSQL (a run's events do not fit a test's memory
 * comfortably): every event Kafka holds is in the table once, with the values it was sent with; nothing
 * else is; every event the broker acknowledged is there; every message that is not an event was
 * dead-lettered.
 */
import { parseUserActionEvent } from '@user-actions/shared';
import { forEachTopicBatch, readTopic } from '../../support/kafka.js';
import type { World } from '../../support/world.js';

export interface ExactCheck {
  /** Distinct events in the topic (what Kafka holds, dead letters aside). */
  sent: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** Rows whose event is not in the topic. */
  unexpected: number;
  /** Rows whose values differ from the event's. */
  altered: number;
  /** Events the broker acknowledged that are not stored. */
  acknowledgedMissing: number;
  /** Distinct messages in the dead-letter topic. */
  deadLettered: number;
  /** Messages that are not events and were not dead-lettered. */
  notDeadLettered: number;
}

const CHUNK = 5_000;

export async function checkExactlyOnce(world: World, acknowledged: ReadonlySet<string>): Promise<ExactCheck> {
  const { db } = world;
  const deadLetterTopic = `${world.topic}.dlq`;
  const deadLetters = (await world.admin.listTopics()).includes(deadLetterTopic)
    ? await readTopic(world.kafka, world.admin, deadLetterTopic)
    : [];
  const origins = new Set(deadLetters.map(({ headers }) => `${headers['dlq.source.partition']}/${headers['dlq.source.offset']}`));

  await db.query('CREATE TABLE check_sent (value jsonb NOT NULL)');
  await db.query('CREATE TABLE check_acknowledged (event_id uuid NOT NULL)');
  let notDeadLettered = 0;
  await forEachTopicBatch(
    world.kafka,
    world.admin,
    world.topic,
    async (messages) => {
      const events = messages.filter(({ partition, offset, value }) => {
        if (origins.has(`${partition}/${offset}`)) return false;
        if (parseUserActionEvent(value).ok) return true;
        notDeadLettered++;
        return false;
      });
      for (let start = 0; start < events.length; start += CHUNK) {
        const values = events.slice(start, start + CHUNK).map(({ value }) => value);
        await db.query('INSERT INTO check_sent SELECT unnest($1::text[])::jsonb', [values]);
      }
    },
    { timeoutMs: 600_000 },
  );
  const ids = [...acknowledged];
  for (let start = 0; start < ids.length; start += CHUNK) {
    await db.query('INSERT INTO check_acknowledged SELECT unnest($1::uuid[])', [ids.slice(start, start + CHUNK)]);
  }
  await db.query("CREATE TABLE check_events AS SELECT DISTINCT ON ((value->>'EventId')::uuid) value FROM check_sent");
  await db.query("CREATE INDEX ON check_events (((value->>'EventId')::uuid))");
  await db.query('ANALYZE check_events');

  const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  const event = "(s.value->>'EventId')::uuid";
  const stored = await count('SELECT count(*) AS n FROM useractions');
  const result: ExactCheck = {
    sent: await count('SELECT count(*) AS n FROM check_events'),
    stored,
    lost: await count(
      `SELECT count(*) AS n FROM check_events s WHERE NOT EXISTS (SELECT 1 FROM useractions u WHERE u.event_id = ${event})`,
    ),
    duplicated: stored - (await count('SELECT count(DISTINCT event_id) AS n FROM useractions')),
    unexpected: await count(
      `SELECT count(*) AS n FROM useractions u WHERE NOT EXISTS (SELECT 1 FROM check_events s WHERE ${event} = u.event_id)`,
    ),
    altered: await count(
      `SELECT count(*) AS n FROM check_events s JOIN useractions u ON u.event_id = ${event}
       WHERE u.userid <> (s.value->>'UserId')::uuid
          OR u.action <> s.value->>'Action'
          OR u.ipaddress IS DISTINCT FROM s.value->'Metadata'->>'IpAddress'
          OR u.device IS DISTINCT FROM s.value->'Metadata'->>'Device'
          OR u."timestamp" <> (s.value->>'Timestamp')::timestamptz
          OR u.metadata IS DISTINCT FROM s.value->'Metadata'`,
    ),
    acknowledgedMissing: await count(
      'SELECT count(*) AS n FROM check_acknowledged a WHERE NOT EXISTS (SELECT 1 FROM useractions u WHERE u.event_id = a.event_id)',
    ),
    deadLettered: origins.size,
    notDeadLettered,
  };
  await db.query('DROP TABLE check_sent, check_acknowledged, check_events');
  return result;
}
