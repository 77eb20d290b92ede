/** scripts/kafka.sh with a test's own settings (ports, extra listeners, state directory). */
import { execFileSync } from 'node:child_process';

const script = new URL('../../scripts/kafka.sh', import.meta.url).pathname;

export function kafkaScript(
  command: 'start' | 'stop',
  settings: Record<string, string>,
  { stdio = 'ignore' }: { stdio?: 'ignore' | 'inherit' } = {},
): void {
  execFileSync('bash', [script, command], { env: { ...process.env, ...settings }, stdio });
}
