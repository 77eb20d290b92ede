/** Runs a built daemon as a child process, the way an operator would, and reads its JSON log lines. */

import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FATAL_CODES, LOG_EVENT } from '@user-actions/shared';
import { expect, onTestFinished } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../scripts/daemon-flags.mjs';
import { waitFor } from './wait.js';

const repo = new URL('../../', import.meta.url).pathname;

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the stop request (or from the start, if it exited by itself) to the exit. */
  ms: number;
}

export interface Daemon {
  readonly pid: number;
  readonly logs: LogLine[];
  /** Standard error, and standard output lines that are not JSON. */
  readonly text: string[];
  readonly exited: Promise<Exit>;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const ENTRY_POINTS = {
  producer: 'producer/dist/main.js',
  consumer: 'consumer/dist/main.js',
  'dlq-replay': 'consumer/dist/replay-main.js',
  api: 'api/dist/main.js',
} as const;

/**
 * `keep` sees each JSON log line first: one it returns false for is not kept in `logs` (a long run's
 * debug lines would fill the test's memory).
 */
export function spawnDaemon(
  name: keyof typeof ENTRY_POINTS,
  env: Record<string, string>,
  args: string[] = [],
  keep?: (line: LogLine) => boolean,
): Daemon {
  // With the Node.js flags users run it with; outside the repo, so that a developer's .env cannot change
  // what the test configured.
  const flags = name === 'dlq-replay' ? [] : DAEMON_NODE_FLAGS[name];
  return spawnProcess(name, process.execPath, [...flags, `${repo}${ENTRY_POINTS[name]}`, ...args], env, tmpdir(), keep);
}

/**
 * A daemon started the README's way, `npm run <script>` in the repository, with npm's own process as
 * the one a stop signal is sent to (as a process supervisor or an IDE does).
 */
export function spawnThroughNpm(script: 'producer' | 'consumer' | 'dlq:replay', env: Record<string, string>): Daemon {
  return spawnProcess(`npm run ${script}`, 'npm', ['run', '--silent', script], env, repo);
}

function spawnProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  keep?: (line: LogLine) => boolean,
): Daemon {
  const child = spawn(command, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      METRICS_PORT: '0', // a free port each: many daemons run at once
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const text: string[] = [];
  collectLines(child, logs, text, keep);
  let stopRequestedAt = Date.now();
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - stopRequestedAt }));
  });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    pid: child.pid ?? 0,
    logs,
    text,
    exited,
    waitForLog: (match, timeoutMs = 60_000) =>
      waitFor(
        () => logs.find(match),
        (line) => line !== undefined,
        { timeoutMs, what: `a ${name} log line matching ${match}` },
      ) as Promise<LogLine>,
    stop(signal = 'SIGTERM') {
      stopRequestedAt = Date.now();
      child.kill(signal);
      return exited;
    },
  };
}

function collectLines(child: ChildProcess, logs: LogLine[], text: string[], keep?: (line: LogLine) => boolean): void {
  const split = (onLine: (line: string) => void) => {
    let rest = '';
    return (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    };
  };
  child.stdout?.on(
    'data',
    split((line) => {
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        text.push(line);
        return;
      }
      if (keep?.(parsed) !== false) logs.push(parsed);
    }),
  );
  child.stderr?.on(
    'data',
    split((line) => text.push(line)),
  );
}

/** The port a daemon serves /metrics, /healthz and /readyz on (the tests give it 0: a free one). */
export async function opsPortOf(daemon: Daemon): Promise<number> {
  return Number((await daemon.waitForLog((line) => line.event === LOG_EVENT.serving)).port);
}

/**
 * A setting that can never work: the daemon must end within 15 s with exit code 1 and exactly one
 * error line, which says what is wrong (`message`), with no stack trace.
 */
export async function expectStopsOnMisconfiguration(daemon: Daemon, message: RegExp): Promise<void> {
  const exit = await Promise.race([daemon.exited, sleep(15_000, undefined, { ref: false })]);
  expect(exit, 'the daemon was still running after 15 s').toBeDefined();
  expect(exit?.code).toBe(1);
  const errors = daemon.logs.filter((line) => line.level >= 50);
  expect(errors.map((line) => line.msg)).toEqual([expect.stringMatching(message)]);
  expect(errors[0]?.code).toBe(FATAL_CODES.misconfigured);
  expect(daemon.logs.filter((line) => line.level === 40)).toEqual([]);
  expect(daemon.text.join('\n')).not.toMatch(/^\s+at /m);
}
