import { ACTIONS, parseUserActionEvent, type UserActionEvent, WIRE_MEMBERS } from '@user-actions/shared/event/schema';
import { describe, expect, it } from 'vitest';
import { REMEMBERED, Simulation } from '../src/events/simulation.js';

const EVENTS = 100_000;

const parsed = ({ json }: { json: string }) => JSON.parse(json) as UserActionEvent;

function sent(simulation: Simulation): UserActionEvent {
  return parsed(simulation.next());
}

/** The events sent, and every event made in order: the users' unsent warm-up ones too. */
function run(seed: number, count = EVENTS): { sent: UserActionEvent[]; made: UserActionEvent[] } {
  let clock = Date.parse('2026-11-26T08:00:00Z');
  const made: UserActionEvent[] = [];
  const simulation = new Simulation({
    users: 1_000,
    seed,
    now: () => (clock += 7),
    onWarmUp: (event) => made.push(parsed(event)),
  });
  const events = Array.from({ length: count }, () => {
    const event = sent(simulation);
    made.push(event);
    return event;
  });
  return { sent: events, made };
}

const { sent: events, made } = run(42);
const meta = (event: UserActionEvent) => event.Metadata as Record<string, unknown>;
const share = (list: UserActionEvent[], action: string) => list.filter((event) => event.Action === action).length / list.length;

function byUser(list: UserActionEvent[]): Map<string, UserActionEvent[]> {
  const users = new Map<string, UserActionEvent[]>();
  for (const event of list) {
    const list = users.get(event.UserId);
    if (list) list.push(event);
    else users.set(event.UserId, [event]);
  }
  return users;
}

describe(`a simulated population (${EVENTS.toLocaleString('en')} events of 1,000 users)`, () => {
  it("speaks the original system's wire format, with every action", () => {
    for (const event of events.slice(0, 5_000)) expect(parseUserActionEvent(JSON.stringify(event)).ok).toBe(true);
    expect(new Set(events.map((event) => event.Action))).toEqual(new Set(ACTIONS));
    expect(new Set(events.map((event) => event.EventId)).size).toBe(EVENTS);
  });

  it("writes each event's JSON as JSON.stringify would, with the fields the logs need beside it", () => {
    const simulation = new Simulation({ users: 1_000, seed: 42 });
    for (let index = 0; index < 20_000; index++) {
      const { json, eventId, userId, action } = simulation.next();
      const event = JSON.parse(json) as UserActionEvent;
      // The wire members in their order, and no other spacing than JSON.stringify's (the consumer's fast
      // path reads exactly this text: consumer/test/wire-contract.test.ts).
      expect(Object.keys(event)).toEqual(WIRE_MEMBERS.map(({ name }) => name));
      expect(json).toBe(JSON.stringify(event));
      expect([eventId, userId, action]).toEqual([event.EventId, event.UserId, event.Action]);
    }
  });

  it('keeps every invariant, user by user, in order, from the events each made before the first sent', () => {
    // Collected rather than asserted one by one: a million expect() calls would take a minute.
    const violations: string[] = [];
    const check = (holds: boolean, what: string, context: string) => {
      if (!holds && violations.length < 20) violations.push(`${what}: ${context}`);
    };
    for (const [user, list] of byUser(made)) {
      let session: string | undefined;
      let device = '';
      let address = '';
      let last = 0;
      const cart: unknown[] = [];
      const following = new Set<unknown>();
      const liked = new Set<unknown>();
      const comments = new Set<unknown>();
      let subscribed = false;
      for (const event of list) {
        const details = meta(event);
        const context = `${user} ${event.Action} at ${event.Timestamp}`;
        const time = Date.parse(event.Timestamp);
        check(time >= last, 'time went backwards', context);
        last = time;
        if (event.Action === 'Login') {
          session = details.SessionId as string;
          device = event.Metadata?.Device ?? '';
          address = event.Metadata?.IpAddress ?? '';
          continue;
        }
        // Everything else happens inside the user's current session, on its device and address.
        check(session !== undefined && details.SessionId === session, 'outside its session', context);
        check(
          event.Metadata?.Device === device && event.Metadata?.IpAddress === address,
          'device or address changed in a session',
          context,
        );
        switch (event.Action) {
          case 'Logout':
            session = undefined;
            break;
          case 'AddToCart':
            cart.push(details.ProductId);
            break;
          case 'RemoveFromCart':
            check(cart.includes(details.ProductId), 'removed what is not in the cart', context);
            cart.splice(cart.indexOf(details.ProductId), 1);
            break;
          case 'Purchase':
            check(cart.length > 0 && details.Items === cart.length, 'bought other than the cart', context);
            cart.length = 0;
            break;
          case 'FollowUser':
            check(details.TargetUserId !== user && !following.has(details.TargetUserId), 'followed itself or twice', context);
            following.add(details.TargetUserId);
            break;
          case 'UnfollowUser':
            check(following.delete(details.TargetUserId), 'unfollowed someone not followed', context);
            break;
          case 'Like':
            liked.add(details.PostId);
            break;
          case 'Unlike':
            check(liked.delete(details.PostId), 'unliked what was not liked', context);
            break;
          case 'Comment':
            comments.add(details.CommentId);
            break;
          case 'DeleteComment':
            check(comments.delete(details.CommentId), 'deleted a comment never made', context);
            break;
          case 'SubscriptionStart':
            check(!subscribed, 'subscribed twice', context);
            subscribed = true;
            break;
          case 'SubscriptionCancel':
            check(subscribed, 'cancelled no subscription', context);
            subscribed = false;
            break;
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('starts as if it had been running: the mix of the first 1,000 events is that of any later ones', () => {
    const first = events.slice(0, 1_000);
    const later = events.slice(50_000);
    const apart = ACTIONS.map((action) => ({
      action,
      points: Math.round(100 * Math.abs(share(first, action) - share(later, action))),
    }));
    expect(apart.filter(({ points }) => points > 3)).toEqual([]);
    // Most users are mid-session when their first event is sent.
    expect(share(first, 'Login')).toBeLessThan(0.15);
  });

  it('has a few very active users and many quiet ones', () => {
    const counts = [...byUser(events).values()].map((list) => list.length).sort((a, b) => b - a);
    const top = counts.slice(0, 10).reduce((sum, count) => sum + count, 0);
    const median = counts[Math.floor(counts.length / 2)] ?? 0;
    expect(top / EVENTS).toBeGreaterThan(0.2); // the 1% most active make over a fifth of the events
    expect((counts[0] ?? 0) / Math.max(1, median)).toBeGreaterThan(50);
  });

  it('repeats itself for the same seed and differs for another', () => {
    expect(run(42, 2_000).sent).toEqual(events.slice(0, 2_000));
    expect(run(43, 2_000).sent).not.toEqual(events.slice(0, 2_000));
    // Listening to the warm-up changes nothing.
    let clock = Date.parse('2026-11-26T08:00:00Z');
    const unheard = new Simulation({ users: 1_000, seed: 42, now: () => (clock += 7) });
    expect(Array.from({ length: 2_000 }, () => sent(unheard))).toEqual(events.slice(0, 2_000));
  });

  it('follows a tuned action mix', () => {
    const tuned = new Simulation({ users: 1_000, seed: 42, mix: { Search: 60, Like: 0, Unlike: 0 } });
    const sample = Array.from({ length: 20_000 }, () => sent(tuned));
    expect(share(sample, 'Search')).toBeGreaterThan(2 * share(events.slice(0, 20_000), 'Search'));
    expect(share(sample, 'Like') + share(sample, 'Unlike')).toBe(0);
  });

  it('remembers a bounded past, however long a user is active', () => {
    // Few users, busy following: the most active make thousands of likes and follow everyone they could.
    const following = new Map<string, Set<unknown>>();
    const recentLikes = new Map<string, unknown[]>();
    let mostFollowed = 0;
    let unlikes = 0;
    const track = (event: UserActionEvent) => {
      const details = meta(event);
      const followed = following.get(event.UserId) ?? new Set();
      following.set(event.UserId, followed);
      const likes = recentLikes.get(event.UserId) ?? [];
      recentLikes.set(event.UserId, likes);
      if (event.Action === 'FollowUser') followed.add(details.TargetUserId);
      if (event.Action === 'UnfollowUser') followed.delete(details.TargetUserId);
      mostFollowed = Math.max(mostFollowed, followed.size);
      if (event.Action === 'Like') likes.push(details.PostId);
      if (event.Action === 'Unlike') {
        unlikes++;
        // Only one of the user's REMEMBERED latest likes (of those not yet undone) can be undone.
        const standing = likes.slice(-REMEMBERED);
        expect(standing).toContain(details.PostId);
        likes.splice(likes.lastIndexOf(details.PostId), 1);
      }
    };
    const simulation = new Simulation({
      users: 300,
      seed: 7,
      mix: { FollowUser: 30 },
      onWarmUp: (event) => track(parsed(event)),
    });
    for (let index = 0; index < 100_000; index++) track(sent(simulation));
    expect(Math.max(...[...recentLikes.values()].map((likes) => likes.length))).toBeGreaterThan(1_000);
    expect(unlikes).toBeGreaterThan(500);
    expect(mostFollowed).toBe(REMEMBERED);
  });
});
