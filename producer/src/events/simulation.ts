/**
 * A simulated population instead of random noise: `users` people with stable ids, devices and
 * addresses, who log in, browse, search, fill and empty carts, buy, follow, like, comment and
 * subscribe in sessions, keeping every invariant a real system would (no Logout without a Login, no
 * Unfollow without a Follow of the same user, no RemoveFromCart from an empty cart, …). A few users are
 * very active and most are not (Zipf). The same seed gives the same sequence of events
 * (their times and the event ids made from them aside).
 *
 * Faker makes the population's names, devices, products and queries once; each event then costs a few
 * draws of a small seeded generator, so that the simulation does not slow the load mode. For the same
 * reason events are written as JSON as they are simulated: every text that could need escaping (names,
 * devices, queries, pages) is JSON-quoted once, when the population is made, and everything else is an
 * id, a number or a fixed word. This text is exactly what `JSON.stringify` would write for the event.
 */
import { en, Faker } from '@faker-js/faker';
import { type Action, wireJson } from '@user-actions/shared/event/schema';
import { deviceName, randomIp } from './devices.js';
import type { OutgoingEvent } from './event-batch.js';
import { timeOrderedUuidFrom, uuidFrom } from './ids.js';
import { cumulativeWeights, drawIndex, seededRandom, takeRandom, zipfCumulative } from './random.js';
import { ALWAYS_POSSIBLE, DEFAULT_SESSION_MIX, type SessionAction } from './session-actions.js';
import { isoTimestamp } from './timestamps.js';

export interface SimulationOptions {
  users: number;
  seed: number;
  /** Zipf exponent of activity: 0 = everyone equally active; about 1 = a few users dominate. */
  skew?: number;
  /** Relative weights of what a user does next in a session; unnamed actions keep their default. */
  mix?: Partial<Record<SessionAction, number>>;
  /** Milliseconds since the epoch; injected by tests for reproducible timestamps. */
  now?: () => number;
  /**
   * Told of each event a user makes unsent while warming up, just before the user's first event sent:
   * tests check the invariants across them.
   */
  onWarmUp?: (event: OutgoingEvent) => void;
}

/** A text as a JSON string literal, quotes included. */
type Quoted = string;

interface Session {
  id: string;
  device: Quoted;
  ipAddress: Quoted;
}

interface Product {
  id: string;
  name: Quoted;
  price: number;
}

interface SimulatedUser {
  id: string;
  device: Quoted;
  ipAddress: Quoted;
  session: Session | undefined;
  cart: Product[];
  following: string[];
  liked: string[];
  comments: string[];
  subscribed: boolean;
  lastTimestamp: number;
  /** Steps still to take unsent before the user's first event is sent. */
  warmUpSteps: number;
}

/** What a user did in one step, in which session. */
interface Step {
  action: Action;
  details: string;
  session: Session;
}

/**
 * How much of their past a simulated user keeps: their most recent likes and comments (older ones are
 * never undone) and at most this many users followed. Unbounded, a long run grew by about 7 MB of heap
 * and slowed by about 5% every million events.
 */
export const REMEMBERED = 100;

/**
 * Steps each user takes unsent before their first event is sent, so that the population starts as if it
 * had been running: most users mid-session, carts, likes and follows held. Whether a user is in a
 * session settles within a few steps (each step ends it with the same chance), carts within a few
 * dozen; taken when a user is first drawn, so a large population costs nothing up front.
 */
export const WARM_UP_STEPS = 40;

const PROFILE_FIELDS = ['avatar', 'bio', 'email', 'name', 'password'] as const;

export class Simulation {
  private readonly random: () => number;
  private readonly users: SimulatedUser[];
  private readonly activity: Float64Array;
  private readonly mix: Float64Array;
  private readonly mixActions: SessionAction[];
  private readonly devices: Quoted[];
  private readonly products: Product[];
  private readonly queries: Quoted[];
  private readonly pages: Quoted[];
  private readonly now: () => number;
  private readonly onWarmUp: ((event: OutgoingEvent) => void) | undefined;
  /** Event ids of the warm-up's events, drawn apart so that listening to them changes nothing. */
  private readonly warmUpRandom: () => number;

  constructor({ users, seed, skew = 1.1, mix = {}, now = Date.now, onWarmUp }: SimulationOptions) {
    const faker = new Faker({ locale: [en] });
    faker.seed(seed);
    this.random = seededRandom(seed);
    this.warmUpRandom = seededRandom(seed + 1);
    this.now = now;
    this.onWarmUp = onWarmUp;
    this.devices = Array.from({ length: 60 }, () => quoted(deviceName(faker)));
    this.products = Array.from({ length: 500 }, () => ({
      id: uuidFrom(this.random),
      name: quoted(faker.commerce.productName()),
      price: Number(faker.commerce.price({ min: 3, max: 400 })),
    }));
    this.queries = Array.from({ length: 300 }, () => quoted(faker.commerce.product().toLowerCase()));
    this.pages = [
      '/',
      '/deals',
      '/feed',
      '/profile',
      '/settings',
      '/help',
      ...this.products.slice(0, 100).map((p) => `/products/${p.id}`),
    ].map(quoted);
    this.users = Array.from({ length: users }, () => ({
      id: uuidFrom(this.random),
      device: this.pick(this.devices),
      ipAddress: quoted(faker.internet.ipv4()),
      session: undefined,
      cart: [],
      following: [],
      liked: [],
      comments: [],
      subscribed: false,
      lastTimestamp: 0,
      warmUpSteps: WARM_UP_STEPS,
    }));
    this.activity = zipfCumulative(users, skew);
    const weights = { ...DEFAULT_SESSION_MIX, ...mix };
    this.mixActions = (Object.keys(weights) as SessionAction[]).filter((action) => weights[action] > 0);
    if (!this.mixActions.some((action) => ALWAYS_POSSIBLE.has(action))) {
      throw new Error(`the action mix needs one of ${[...ALWAYS_POSSIBLE].join(', ')}`);
    }
    this.mix = cumulativeWeights(this.mixActions.map((action) => weights[action]));
  }

  next(): OutgoingEvent {
    const user = this.users[drawIndex(this.activity, this.random)] as SimulatedUser;
    if (user.warmUpSteps > 0) this.warmUp(user);
    const step = this.step(user);
    // Per user, time never goes backwards, even if the clock does.
    const timestamp = Math.max(this.now(), user.lastTimestamp);
    user.lastTimestamp = timestamp;
    return this.event(user, step, timestamp, this.random);
  }

  /** The warm-up's events are never sent: they carry the epoch as their time. */
  private warmUp(user: SimulatedUser): void {
    for (; user.warmUpSteps > 0; user.warmUpSteps--) {
      const step = this.step(user);
      if (this.onWarmUp) this.onWarmUp(this.event(user, step, 0, this.warmUpRandom));
    }
  }

  /** What the user does next, their state moved on. */
  private step(user: SimulatedUser): Step {
    const { action, details } = user.session ? this.act(user) : this.logIn(user);
    const session = user.session as Session;
    if (action === 'Logout') user.session = undefined;
    return { action, details, session };
  }

  private event(user: SimulatedUser, { action, details, session }: Step, timestamp: number, random: () => number): OutgoingEvent {
    const eventId = timeOrderedUuidFrom(timestamp, random);
    const metadata = `{"IpAddress":${session.ipAddress},"Device":${session.device},"SessionId":"${session.id}"${details}}`;
    const json = wireJson({
      EventId: eventId,
      UserId: user.id,
      Action: action,
      Metadata: metadata,
      Timestamp: isoTimestamp(timestamp),
    });
    return { eventId, userId: user.id, action, json };
  }

  private logIn(user: SimulatedUser): { action: Action; details: string } {
    // Now and then a user comes back on another device or from another network.
    if (this.random() < 0.05) user.device = this.pick(this.devices);
    if (this.random() < 0.05) user.ipAddress = quoted(randomIp(this.random));
    user.session = { id: uuidFrom(this.random), device: user.device, ipAddress: user.ipAddress };
    return { action: 'Login', details: '' };
  }

  private act(user: SimulatedUser): { action: Action; details: string } {
    // A session that simply times out: the next event of this user starts a new one.
    if (this.random() < 0.02) {
      user.session = undefined;
      return this.logIn(user);
    }
    for (;;) {
      const action = this.mixActions[drawIndex(this.mix, this.random)] as SessionAction;
      const details = this.details(user, action);
      if (details !== undefined) return { action, details };
    }
  }

  /**
   * The action's context as JSON members, each after a comma, to follow the session's id in `Metadata`;
   * undefined when its invariant does not allow the action now (another is drawn).
   */
  private details(user: SimulatedUser, action: Action): string | undefined {
    switch (action) {
      case 'PageView':
        return `,"Page":${this.pick(this.pages)}`;
      case 'Search':
        return `,"Query":${this.pick(this.queries)}`;
      case 'AddToCart': {
        const product = this.pick(this.products);
        user.cart.push(product);
        return `,"ProductId":"${product.id}","ProductName":${product.name},"Price":${product.price}`;
      }
      case 'RemoveFromCart':
        return user.cart.length === 0 ? undefined : `,"ProductId":"${takeRandom(user.cart, this.random).id}"`;
      case 'Purchase': {
        if (user.cart.length === 0) return undefined;
        const items = user.cart.splice(0);
        const amount = Math.round(items.reduce((sum, product) => sum + product.price, 0) * 100) / 100;
        return `,"OrderId":"${uuidFrom(this.random)}","Items":${items.length},"Amount":${amount},"Currency":"EUR"`;
      }
      case 'FollowUser': {
        const target = (this.users[drawIndex(this.activity, this.random)] as SimulatedUser).id;
        if (target === user.id || user.following.length >= REMEMBERED || user.following.includes(target)) return undefined;
        user.following.push(target);
        return `,"TargetUserId":"${target}"`;
      }
      case 'UnfollowUser':
        return user.following.length === 0 ? undefined : `,"TargetUserId":"${takeRandom(user.following, this.random)}"`;
      case 'Like': {
        const post = uuidFrom(this.random);
        remember(user.liked, post);
        return `,"PostId":"${post}"`;
      }
      case 'Unlike':
        return user.liked.length === 0 ? undefined : `,"PostId":"${takeRandom(user.liked, this.random)}"`;
      case 'Comment': {
        const comment = uuidFrom(this.random);
        remember(user.comments, comment);
        return `,"CommentId":"${comment}","PostId":"${uuidFrom(this.random)}"`;
      }
      case 'DeleteComment':
        return user.comments.length === 0 ? undefined : `,"CommentId":"${takeRandom(user.comments, this.random)}"`;
      case 'SubscriptionStart':
        if (user.subscribed) return undefined;
        user.subscribed = true;
        return `,"Plan":"${this.random() < 0.7 ? 'monthly' : 'yearly'}"`;
      case 'SubscriptionCancel':
        if (!user.subscribed) return undefined;
        user.subscribed = false;
        return '';
      case 'ProfileUpdate':
        return `,"Field":"${this.pick(PROFILE_FIELDS)}"`;
      case 'Logout':
        return '';
      case 'Login':
        return undefined;
    }
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }
}

/** Adds `item` to a user's memory, forgetting the oldest once `REMEMBERED` are kept. */
function remember(items: string[], item: string): void {
  if (items.length >= REMEMBERED) items.shift();
  items.push(item);
}

function quoted(text: string): Quoted {
  return JSON.stringify(text);
}
