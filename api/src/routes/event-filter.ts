/** The filter the list, counts and export share, with the one rule no single parameter can check. */

import type { TimeBound } from '../http/parameters.js';
import { badParameter } from '../http/problems.js';
import type { EventFilter } from '../reading/read-sql.js';

export interface FilterQuery {
  startTimeStamp?: TimeBound | undefined;
  endTimeStamp?: TimeBound | undefined;
  userId?: string | undefined;
  action?: EventFilter['actions'] | undefined;
}

export function eventFilter({ startTimeStamp, endTimeStamp, userId, action }: FilterQuery): EventFilter {
  if (startTimeStamp && endTimeStamp && startTimeStamp.ms > endTimeStamp.ms) {
    throw badParameter('startTimeStamp', 'startTimeStamp is after endTimeStamp');
  }
  return {
    ...(startTimeStamp && { start: startTimeStamp.text }),
    ...(endTimeStamp && { end: endTimeStamp.text }),
    ...(userId && { userId }),
    ...(action && { actions: action }),
  };
}
