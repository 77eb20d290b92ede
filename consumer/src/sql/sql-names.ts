/**
 * The names the consumer's SQL writes: the table's and those PostgreSQL or the consumer derive from it,
 * in its schema. Only names validated as plain identifiers (config.ts) reach the text.
 */
import { qualifiedTable, quoted, type TableName } from '@user-actions/shared/postgres/table-name';

/** PostgreSQL's limit on a name, in bytes; longer ones it cuts, and so do we, the same way. */
const NAME_LIMIT = 63;

export type SqlNames = ReturnType<typeof sqlNames>;

export function sqlNames({ schema, name }: TableName) {
  const tableName: TableName = { ...(schema !== undefined && { schema }), name };
  const inSchema = (relation: string) => (schema === undefined ? quoted(relation) : `${quoted(schema)}.${quoted(relation)}`);
  const derivedName = (suffix: string) => `${name}${suffix}`.slice(0, NAME_LIMIT);
  return {
    tableName,
    table: qualifiedTable(tableName),
    /** A relation of the table's schema, as an operator reads it in a message. */
    display: (relation: string) => (schema === undefined ? relation : `${schema}.${relation}`),
    /** A relation of the table's schema, quoted for the text. */
    inSchema,
    /** A name PostgreSQL derives from the table's (its key, its sequence), quoted. */
    derived: (suffix: string) => quoted(derivedName(suffix)),
    /** The same, in the table's schema. */
    qualified: (suffix: string) => inSchema(derivedName(suffix)),
    derivedName,
    /** Where a relation's columns are listed ($1 the schema, $2 the relation). */
    columnsOf: (relation: string) => ({
      text: `
SELECT column_name FROM information_schema.columns
WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2`,
      values: [schema ?? null, relation],
    }),
  };
}
