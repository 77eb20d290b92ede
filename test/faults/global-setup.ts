/** Builds the daemons the fault suite runs as processes; the suite starts its own services itself. */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

export default function setup(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b'], { cwd: new URL('../../', import.meta.url).pathname, stdio: 'inherit' });
}
