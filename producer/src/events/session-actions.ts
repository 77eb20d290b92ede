/** What a simulated user may do in a session, and how often by default. */
import type { Action } from '@user-actions/shared/event/schema';

/** What a user in a session does next, before the invariants are applied; `Login` starts a session. */
export const DEFAULT_SESSION_MIX = {
  PageView: 30,
  Search: 12,
  AddToCart: 9,
  RemoveFromCart: 3,
  Purchase: 3,
  Like: 8,
  Unlike: 2,
  Comment: 4,
  DeleteComment: 1,
  FollowUser: 4,
  UnfollowUser: 1,
  ProfileUpdate: 2,
  SubscriptionStart: 1,
  SubscriptionCancel: 1,
  Logout: 5,
} as const satisfies Partial<Record<Action, number>>;

export type SessionAction = keyof typeof DEFAULT_SESSION_MIX;

/** Actions no invariant ever refuses: a mix needs one, or drawing the next action might never end. */
export const ALWAYS_POSSIBLE: ReadonlySet<SessionAction> = new Set([
  'PageView',
  'Search',
  'AddToCart',
  'Like',
  'Comment',
  'ProfileUpdate',
  'Logout',
]);
