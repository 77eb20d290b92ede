/**
 * A shortcut for messages in the exact shape our producer writes (WIRE_MEMBERS, in order):
 * `{"EventId":"…","UserId":"…","Action":"…","Metadata":…,"Timestamp":"…"}`, without spaces.
 *
 * Only the `Metadata` value is parsed, and its text is stored as it arrived instead of being serialised
 * again: parsing the whole message and then `JSON.stringify(Metadata)` were a sixth of the decoding
 * thread's time. Anything else — another shape, another member order, an invalid value — returns
 * `undefined` and takes the general path, which also explains what is wrong.
 *
 * Why the result is the event `JSON.parse` would give: the leading and trailing members are fixed text
 * around values that the schema's own patterns then accept (ids, action names and timestamps hold no
 * quote and no backslash), so if the text between them parses as one JSON value, the message is exactly
 * the object of these five members, each once.
 */
import { isPlainlyValid, type UserActionEvent, WIRE_TEXT } from '@user-actions/shared/event/schema';

export interface CanonicalEvent {
  event: UserActionEvent;
  /** The `Metadata` value's JSON exactly as it arrived, or null when it is null. */
  metadataText: string | null;
}

// The text our producer writes between the values, in the order of the wire members (shared/src/event/schema.ts).
const [START = '', USER_ID = '', ACTION = '', METADATA = '', TIMESTAMP = '', END = ''] = WIRE_TEXT;
const ID_LENGTH = 36;
const USER_ID_AT = START.length + ID_LENGTH;
const ACTION_AT = USER_ID_AT + USER_ID.length + ID_LENGTH;
const ACTION_NAME_AT = ACTION_AT + ACTION.length;

export function readCanonicalEvent(text: string): CanonicalEvent | undefined {
  if (!text.startsWith(START) || !text.startsWith(USER_ID, USER_ID_AT) || !text.startsWith(ACTION, ACTION_AT)) {
    return undefined;
  }
  const actionEnd = text.indexOf('"', ACTION_NAME_AT);
  if (actionEnd < 0 || !text.startsWith(METADATA, actionEnd)) return undefined;
  const metadataAt = actionEnd + METADATA.length;
  const timestampMember = text.lastIndexOf(TIMESTAMP);
  if (timestampMember < metadataAt || !text.endsWith(END)) return undefined;

  const metadataText = text.slice(metadataAt, timestampMember);
  let metadata: unknown;
  try {
    metadata = JSON.parse(metadataText);
  } catch {
    return undefined;
  }
  const event = {
    EventId: text.slice(START.length, USER_ID_AT),
    UserId: text.slice(USER_ID_AT + USER_ID.length, ACTION_AT),
    Action: text.slice(ACTION_NAME_AT, actionEnd),
    Metadata: metadata,
    Timestamp: text.slice(timestampMember + TIMESTAMP.length, text.length - END.length),
  };
  if (!isPlainlyValid(event)) return undefined;
  return { event, metadataText: metadata === null ? null : metadataText };
}
