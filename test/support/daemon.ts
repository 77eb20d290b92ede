/** Runs a built daemon as a child process, the way an operator would, and reads its JSON log lines. */
import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { onTestFinished } from 'vitest';
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
} as const;

export function spawnDaemon(name: keyof typeof ENTRY_POINTS, env: Record<string, string>, args: string[] = []): Daemon {
  const child = spawn(process.execPath, [`${repo}${ENTRY_POINTS[name]}`, ...args], {
    // Outside the repo, so that a developer's .env cannot change what the test configured.
    cwd: tmpdir(),
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
  collectLines(child, logs, text);
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

function collectLines(child: ChildProcess, logs: LogLine[], text: string[]): void {
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
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        text.push(line);
      }
    }),
  );
  child.stderr?.on(
    'data',
    split((line) => text.push(line)),
  );
}
