/**
 * The tallies of events per minute and per second beside the table (`talliesOf`), which the API's
 * counts and live page read instead of aggregating the events. The consumer adds what each batch stored
 * in the batch's own transaction: counted by the loader's thread from the rows it already holds on the
 * COPY path, and by PostgreSQL from the rows actually inserted on the staging path (a duplicate skipped
 * is never counted). Statement-level triggers subtract what any `DELETE` removes and empty the tallies
 * on `TRUNCATE`. Rows inserted by anything but the consumer are not counted: `recount` counts again.
 * A trigger on INSERT would count every writer's rows too, but cost 9–14% of the store step where
 * adding a batch's counts costs about 4% (docs/api.md).
 *
 * One row per minute (or second) and action, so that the API reads a day of minutes without grouping
 * them. Several consumers adding to the same minute wait for each other only while the other commits:
 * the counts travel with the COMMIT. Rows are added in key order, so two sessions never deadlock.
 *
 * The per-second tally is a ring of two hours of slots (the second's epoch modulo RING_SECONDS): it takes
 * only events from the last hour and the next minute, so a slot still holding an older second is simply
 * overwritten, and the table never grows past its ring with nothing to prune it.
 */

import { ACTIONS } from '@user-actions/shared/event/schema';
import { quoted, RING_SECONDS, type TableName, talliesOf } from '@user-actions/shared/postgres/table-name';
import type { SecondCount } from '../decoding/copy-rows.js';

/** How far back the per-second tally counts, and how far ahead (a device's clock a little fast). */
const SECONDS_KEPT = "now() - interval '1 hour'";
const SECONDS_AHEAD = "now() + interval '1 minute'";

/** The relations and statement pieces the tallies' statements share. */
function tallyParts({ schema, name }: TableName) {
  const { perMinute, perSecond } = talliesOf({ ...(schema !== undefined && { schema }), name });
  const inSchema = (relation: string) => (schema === undefined ? quoted(relation) : `${quoted(schema)}.${quoted(relation)}`);
  const own = (suffix: string) => `${name.slice(0, 63 - suffix.length)}${suffix}`;
  const table = inSchema(name);
  const addFunction = inSchema(own('_tally_add'));
  return {
    perMinute,
    perSecond,
    table,
    addFunction,
    triggerFunction: inSchema(own('_tally_removed')),
    trigger: (operation: 'delete' | 'truncate') => quoted(own(`_tally_${operation}`)),
    /** Adds `counts` (minute, action, events) to the per-minute tally. */
    addMinutes: (counts: string) => `
INSERT INTO ${perMinute} AS t (minute, action, events)
SELECT minute, action, events FROM (${counts}) AS c ORDER BY 1, 2
ON CONFLICT (minute, action) DO UPDATE SET events = t.events + EXCLUDED.events`,
    /** Adds `counts` (second, action, events) to the per-second ring, those of its span only. */
    addSeconds: (counts: string) => `
INSERT INTO ${perSecond} AS t (slot, action, second, events)
SELECT (extract(epoch FROM second)::bigint % ${RING_SECONDS})::int, action, second, events FROM (${counts}) AS c
WHERE second >= ${SECONDS_KEPT} AND second < ${SECONDS_AHEAD}
ORDER BY 1, 2
ON CONFLICT (slot, action) DO UPDATE SET
  events = CASE WHEN t.second = EXCLUDED.second THEN t.events + EXCLUDED.events
                WHEN t.second < EXCLUDED.second THEN EXCLUDED.events ELSE t.events END,
  second = greatest(t.second, EXCLUDED.second)`,
    /** `SELECT <add>(…)` of the events per second and action of `rows` (with `sign`), grouped by PostgreSQL. */
    addGrouped: (rows: string, sign = '') => `
SELECT ${addFunction}(array_agg(second), array_agg(action), array_agg(events)) FROM (
  SELECT extract(epoch FROM date_trunc('second', "timestamp"))::bigint AS second, action, ${sign}count(*) AS events
  FROM ${rows} GROUP BY 1, 2) AS counts`,
  };
}

type TallyParts = ReturnType<typeof tallyParts>;

/** The tallies' tables and triggers, made and checked by the migration. */
function tallyTablesSql({ perMinute, perSecond, table, addFunction, triggerFunction, trigger }: TallyParts) {
  return {
    /** Whether the tallies exist: a table made or adopted before them is counted once, at migration. */
    exists: { text: 'SELECT to_regclass($1) IS NOT NULL AS present', values: [perMinute] },

    /** Whether the function that adds to them exists, for a consumer that does not migrate. */
    canAdd: {
      text: 'SELECT to_regprocedure($1) IS NOT NULL AS present',
      values: [`${addFunction}(bigint[], text[], bigint[])`],
    },

    create: [
      `CREATE TABLE IF NOT EXISTS ${perMinute} (
  minute TIMESTAMPTZ NOT NULL,
  action TEXT        NOT NULL,
  events BIGINT      NOT NULL,
  PRIMARY KEY (minute, action)
)`,
      `CREATE TABLE IF NOT EXISTS ${perSecond} (
  slot   INTEGER     NOT NULL,
  action TEXT        NOT NULL,
  second TIMESTAMPTZ NOT NULL,
  events BIGINT      NOT NULL,
  PRIMARY KEY (slot, action)
)`,
    ],

    /** The triggers on the table, which `presentTriggers` finds by these names. */
    triggers: {
      [trigger('delete')]: `CREATE TRIGGER ${trigger('delete')} AFTER DELETE ON ${table}
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${triggerFunction}()`,
      [trigger('truncate')]: `CREATE TRIGGER ${trigger('truncate')} AFTER TRUNCATE ON ${table}
FOR EACH STATEMENT EXECUTE FUNCTION ${triggerFunction}()`,
    } as Record<string, string>,

    /** The names (quoted) of the triggers the table has. */
    presentTriggers: {
      text: `SELECT '"' || tgname || '"' AS name FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal`,
      values: [table],
    },

    /**
     * Before a plain table is moved into partitions: its triggers would stay on the partition it becomes,
     * where they would see only what is deleted from that partition by name.
     */
    dropTriggers: (['delete', 'truncate'] as const).map(
      (operation) => `DROP TRIGGER IF EXISTS ${trigger(operation)} ON ${table}`,
    ),
  } as const;
}

/**
 * The functions, replaced at every migration so that a newer version's body takes over. They run as the
 * table's owner, on the search path the tallies were made in: a loader allowed only to INSERT into the
 * table needs no rights on the tallies.
 */
function tallyFunctionsSql({
  perMinute,
  perSecond,
  addFunction,
  triggerFunction,
  addMinutes,
  addSeconds,
  addGrouped,
}: TallyParts) {
  return [
    `
CREATE OR REPLACE FUNCTION ${addFunction}(seconds bigint[], actions text[], counts bigint[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
WITH s AS (
  SELECT to_timestamp(second) AS second, action, events FROM unnest(seconds, actions, counts) AS c(second, action, events)
), minutes AS (${addMinutes(`SELECT date_trunc('minute', second, 'UTC') AS minute, action, sum(events) AS events FROM s GROUP BY 1, 2`)})
${addSeconds('SELECT second, action, events FROM s')}
$$`,
    `
CREATE OR REPLACE FUNCTION ${triggerFunction}() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM ${perMinute};
    DELETE FROM ${perSecond};
  ELSE
    PERFORM * FROM (${addGrouped('changed', '-')}) AS added;
  END IF;
  RETURN NULL;
END
$$`,
  ];
}

/** Counting: what the table holds, and what each batch and each dropped partition changes. */
function tallyCountsSql({ perMinute, perSecond, table, addFunction, addMinutes, addSeconds, addGrouped }: TallyParts) {
  const countStored = [
    addMinutes(
      `SELECT date_trunc('minute', "timestamp", 'UTC') AS minute, action, count(*) AS events FROM ${table} GROUP BY 1, 2`,
    ),
    addSeconds(
      `SELECT date_trunc('second', "timestamp") AS second, action, count(*) AS events FROM ${table}
       WHERE "timestamp" >= ${SECONDS_KEPT} GROUP BY 1, 2`,
    ),
    // A table's worth of rows at once: planned by statistics from the start, not autovacuum's next round.
    `ANALYZE ${perMinute}, ${perSecond}`,
  ];
  const column = (values: string[], type: string) => `ARRAY[${values.join(',')}]::${type}[]`;
  return {
    /** Counts what the table already holds, in the migration's transaction (the table is locked meanwhile). */
    countStored,

    /** Counts the whole table again, for rows written by something other than the consumer. */
    recount: [`DELETE FROM ${perMinute}`, `DELETE FROM ${perSecond}`, ...countStored],

    /** Adds a batch's counts, in its transaction (values are numbers and action names, written in). */
    add: (counts: readonly SecondCount[]) =>
      `SELECT ${addFunction}(${column(
        counts.map(([second]) => String(Math.trunc(second))),
        'bigint',
      )}, ${column(
        counts.map(([, action]) => `'${ACTIONS[action]}'`),
        'text',
      )}, ${column(
        counts.map(([, , events]) => String(Math.trunc(events))),
        'bigint',
      )})`,

    /** Adds the counts of the rows `inserted` returns ("timestamp", action), grouped by PostgreSQL. */
    addInserted: addGrouped('inserted'),

    /** A dropped partition's minutes, [$1, $2): no event is left to be counted in them. */
    forgetMinutes: `DELETE FROM ${perMinute} WHERE minute >= $1 AND minute < $2`,
  } as const;
}

export function tallySqlFor(tableName: TableName) {
  const parts = tallyParts(tableName);
  return {
    perMinute: parts.perMinute,
    perSecond: parts.perSecond,
    ...tallyTablesSql(parts),
    createFunctions: tallyFunctionsSql(parts),
    ...tallyCountsSql(parts),
  } as const;
}

export type TallySql = ReturnType<typeof tallySqlFor>;
