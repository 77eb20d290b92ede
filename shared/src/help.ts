/** `--help`: every setting of a daemon, read from its configuration schema, so the two never disagree. */
import type { z } from 'zod';

/** ` (default: …)`, or nothing for a setting without a fixed default (its description says what applies). */
function defaultOf(schema: z.ZodType): string {
  const def = schema.def as { type: string; defaultValue?: unknown };
  if (def.type !== 'default') return '';
  const value = def.defaultValue;
  return ` (default: ${Array.isArray(value) ? value.join(',') : String(value)})`;
}

export function formatHelp(
  command: string,
  summary: string,
  shape: Record<string, z.ZodType>,
  options: Record<string, string> = {},
): string {
  const rows = Object.entries(shape).map(([name, schema]) => [name, schema.description ?? '', defaultOf(schema)] as const);
  const flags = Object.entries(options);
  const width = Math.max(...rows.map(([name]) => name.length), ...flags.map(([flag]) => flag.length));
  return [
    `Usage: ${command} ${flags.map(([flag]) => `[${flag}] `).join('')}[--help]`,
    '',
    summary,
    '',
    ...(flags.length > 0
      ? ['Options:', '', ...flags.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`), '']
      : []),
    'Settings, from the environment or a .env file in the working directory:',
    '',
    ...rows.map(([name, description, fallback]) => `  ${name.padEnd(width)}  ${description}${fallback}`),
    '',
    'Exit codes: 0 stopped as asked, 1 fatal error, 78 invalid configuration, 130 forced by a second signal.',
    '',
  ].join('\n');
}
