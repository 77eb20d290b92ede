import { expect, it } from 'vitest';
import { isKnownHarmlessWarning } from '../src/process-warnings.js';

function warning(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

it("kafkajs' negative timer (minus the current time) is the one warning kept out of the log", () => {
  expect(isKnownHarmlessWarning(warning('TimeoutNegativeWarning', '-1796075501374 is a negative number.'))).toBe(true);
  expect(isKnownHarmlessWarning(warning('TimeoutNegativeWarning', '-5 is a negative number.'))).toBe(false);
  expect(isKnownHarmlessWarning(warning('DeprecationWarning', '-1796075501374 is a negative number.'))).toBe(false);
  expect(isKnownHarmlessWarning(warning('MaxListenersExceededWarning', 'Possible EventEmitter memory leak'))).toBe(false);
});
