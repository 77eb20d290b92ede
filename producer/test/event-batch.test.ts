import { describe, expect, it } from 'vitest';
import { encodeEvents, messagesOf } from '../src/event-batch.js';
import { Simulation } from '../src/simulation.js';

describe('a batch of encoded events', () => {
  const simulation = new Simulation({ users: 50, seed: 7 });
  const events = Array.from({ length: 3_000 }, () => simulation.next());
  events[1] = { ...events[1], Metadata: { Device: 'Café "Ω" 🚀\n' } } as (typeof events)[number];

  it('carries each event as its own JSON message, keyed by user, in order', () => {
    const messages = messagesOf(encodeEvents(events));
    expect(messages).toHaveLength(events.length);
    messages.forEach((message, index) => {
      expect(message.key).toBe(events[index]?.UserId);
      expect(JSON.parse(message.value?.toString() ?? '')).toEqual(events[index]);
    });
  });

  it('makes room for events far larger than usual', () => {
    const large = [{ ...events[0], Metadata: { Query: 'ü'.repeat(5_000) } }, events[2]] as typeof events;
    expect(messagesOf(encodeEvents(large)).map((message) => JSON.parse(message.value?.toString() ?? ''))).toEqual(large);
  });

  it('names what the logs and metrics need of every event', () => {
    const batch = encodeEvents(events);
    expect(batch.length).toBe(events.length);
    expect(batch.eventIds).toEqual(events.map((event) => event.EventId));
    expect(batch.actions).toEqual(events.map((event) => event.Action));
  });

  it('survives the move to another thread', () => {
    const batch = encodeEvents(events.slice(0, 10));
    const moved = structuredClone(batch, { transfer: [batch.json.buffer, batch.ends.buffer] });
    expect(messagesOf(moved).map((message) => JSON.parse(message.value?.toString() ?? ''))).toEqual(events.slice(0, 10));
    expect(batch.json.byteLength).toBe(0);
  });
});
