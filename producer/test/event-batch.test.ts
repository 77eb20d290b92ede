import type { UserActionEvent } from '@user-actions/shared';
import { describe, expect, it } from 'vitest';
import { encodeEvents, messagesOf, type OutgoingEvent, outgoing } from '../src/events/event-batch.js';
import { generateEvent } from '../src/events/original-events.js';
import { Simulation } from '../src/events/simulation.js';

describe('a batch of encoded events', () => {
  const simulation = new Simulation({ users: 50, seed: 7 });
  const events: OutgoingEvent[] = Array.from({ length: 3_000 }, () => simulation.next());
  const unusual = { ...generateEvent(), Metadata: { Device: 'Café "Ω" 🚀\n' } } as UserActionEvent;
  events[1] = outgoing(unusual);
  const texts = (batch: OutgoingEvent[]) => messagesOf(encodeEvents(batch)).map((message) => message.value?.toString());

  it('carries each event as its own JSON message, keyed by user, in order', () => {
    const messages = messagesOf(encodeEvents(events));
    expect(messages).toHaveLength(events.length);
    messages.forEach((message, index) => {
      expect(message.key).toBe(events[index]?.userId);
      expect(message.value?.toString()).toBe(events[index]?.json);
    });
    expect(JSON.parse(messages[1]?.value?.toString() ?? '')).toEqual(unusual);
  });

  it('makes room for events far larger than usual', () => {
    const large = [outgoing({ ...unusual, Metadata: { Query: 'ü'.repeat(5_000) } }), events[2]] as OutgoingEvent[];
    expect(texts(large)).toEqual(large.map((event) => event.json));
  });

  it('names what the logs and metrics need of every event', () => {
    const batch = encodeEvents(events);
    expect(batch.length).toBe(events.length);
    expect(batch.eventIds).toEqual(events.map((event) => event.eventId));
    expect(batch.userIds).toEqual(events.map((event) => event.userId));
    expect(batch.actions).toEqual(events.map((event) => event.action));
  });

  it('survives the move to another thread', () => {
    const batch = encodeEvents(events.slice(0, 10));
    const moved = structuredClone(batch, { transfer: [batch.json.buffer, batch.ends.buffer] });
    expect(messagesOf(moved).map((message) => message.value?.toString())).toEqual(events.slice(0, 10).map((event) => event.json));
    expect(batch.json.byteLength).toBe(0);
  });
});

describe('an event made as an object', () => {
  it('is sent as its JSON, with its id, user and action beside it', () => {
    const event = generateEvent();
    expect(outgoing(event)).toEqual({
      eventId: event.EventId,
      userId: event.UserId,
      action: event.Action,
      json: JSON.stringify(event),
    });
  });
});
