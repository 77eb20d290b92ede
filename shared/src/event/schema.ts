/**
 * The user-action event, as it travels on the Kafka topic.
 *
 * The terms (event, action, event id, row, dead letter…) are defined once, in docs/architecture.md's glossary.
 *
 * The field names are the original .NET system's and are kept as they are, so that its producers and
 * consumers interoperate with ours. Unknown extra fields are tolerated, for forward compatibility.
 */
import { z } from 'zod';

export const ACTIONS = [
  'Login',
  'Logout',
  'PageView',
  'Search',
  'Purchase',
  'AddToCart',
  'RemoveFromCart',
  'ProfileUpdate',
  'FollowUser',
  'UnfollowUser',
  'Like',
  'Unlike',
  'Comment',
  'DeleteComment',
  'SubscriptionStart',
  'SubscriptionCancel',
] as const;

export type Action = (typeof ACTIONS)[number];

// PostgreSQL TEXT cannot hold U+0000; refusing it here keeps one such value from failing a whole batch.
const storableText = z.string().refine((text) => !text.includes('\u0000'), {
  message: 'must not contain the NUL character (U+0000)',
});

export const metadataSchema = z.looseObject({
  IpAddress: storableText.nullish(),
  Device: storableText.nullish(),
});

/**
 * The members of an event, in the order our producer writes them; the consumer reads this exact text
 * fastest (decoding/canonical-event.ts). `text` members are JSON strings whose value never needs escaping
 * (ids, action names, timestamps: the schema's patterns allow no quote or backslash); `json` members are
 * any JSON value, written as JSON text.
 */
export const WIRE_MEMBERS = [
  { name: 'EventId', value: 'text' },
  { name: 'UserId', value: 'text' },
  { name: 'Action', value: 'text' },
  { name: 'Metadata', value: 'json' },
  { name: 'Timestamp', value: 'text' },
] as const;

export type WireMember = (typeof WIRE_MEMBERS)[number]['name'];

export const userActionEventSchema = z.looseObject({
  EventId: z.guid().optional(),
  UserId: z.guid(),
  Action: z.enum(ACTIONS),
  Metadata: metadataSchema.nullish(),
  // ISO-8601 with an explicit zone (`Z` or `+hh:mm`): a timestamp without one would be ambiguous.
  Timestamp: z.iso.datetime({ offset: true }),
} satisfies Record<WireMember, z.ZodType>);

/**
 * The fixed text of an event's JSON around its values: `WIRE_TEXT[i]` comes before the value of member
 * `i` and the last entry after the last value. For `{"EventId":"…","UserId":"…",…}` without spaces.
 */
export const WIRE_TEXT: readonly string[] = WIRE_MEMBERS.map(({ name, value }, index) => {
  const previous = WIRE_MEMBERS[index - 1];
  const before = previous === undefined ? '{' : `${previous.value === 'text' ? '"' : ''},`;
  return `${before}"${name}":${value === 'text' ? '"' : ''}`;
}).concat(`${WIRE_MEMBERS[WIRE_MEMBERS.length - 1]?.value === 'text' ? '"' : ''}}`);

/**
 * An event's JSON in the order of WIRE_MEMBERS, exactly as `JSON.stringify` writes an object with these
 * members in this order: `text` values as they are, `json` values already as JSON text.
 */
export function wireJson(values: Readonly<Record<WireMember, string>>): string {
  let json = '';
  for (let index = 0; index < WIRE_MEMBERS.length; index++) {
    json += (WIRE_TEXT[index] as string) + values[(WIRE_MEMBERS[index] as (typeof WIRE_MEMBERS)[number]).name];
  }
  return json + (WIRE_TEXT[WIRE_MEMBERS.length] as string);
}

export type UserActionEvent = z.infer<typeof userActionEventSchema>;

export type ParseResult = { ok: true; event: UserActionEvent } | { ok: false; reason: string };

/** Parses the bytes of one Kafka message; never throws. The reason names every problem found. */
export function parseUserActionEvent(value: Buffer | string | null | undefined): ParseResult {
  if (value === null || value === undefined || value.length === 0) {
    return { ok: false, reason: 'empty message' };
  }
  let json: unknown;
  try {
    json = JSON.parse(value.toString());
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${(error as Error).message}` };
  }
  if (isPlainlyValid(json)) return { ok: true, event: json };
  const result = userActionEventSchema.safeParse(json);
  if (!result.success) {
    return { ok: false, reason: describeIssues(result.error.issues) };
  }
  return { ok: true, event: result.data };
}

// The schema's own patterns, so that the shortcut below cannot drift from it.
const GUID = z.core.regexes.guid;
const DATETIME_WITH_ZONE = z.core.regexes.datetime({ offset: true, local: false, precision: null });
const ACTION_NAMES: ReadonlySet<unknown> = new Set(ACTIONS);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isStorableTextOrNothing = (value: unknown) =>
  value === undefined || value === null || (typeof value === 'string' && !value.includes('\u0000'));

/**
 * The common case without zod's object machinery, which cost the consumer a tenth of its time: true only
 * for events the schema accepts unchanged (shared/test/schema.test.ts holds both to the same verdicts).
 * Anything else goes through zod, which also explains what is wrong.
 */
export function isPlainlyValid(json: unknown): json is UserActionEvent {
  if (!isRecord(json)) return false;
  const { EventId, UserId, Action, Metadata, Timestamp } = json;
  return (
    typeof UserId === 'string' &&
    GUID.test(UserId) &&
    ACTION_NAMES.has(Action) &&
    typeof Timestamp === 'string' &&
    DATETIME_WITH_ZONE.test(Timestamp) &&
    (EventId === undefined || (typeof EventId === 'string' && GUID.test(EventId))) &&
    (Metadata === undefined ||
      Metadata === null ||
      (isRecord(Metadata) && isStorableTextOrNothing(Metadata.IpAddress) && isStorableTextOrNothing(Metadata.Device)))
  );
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : 'message';
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
