/** A daemon's exit codes (docs/operations.md). */
export const EXIT_CODES = {
  ok: 0,
  failed: 1,
  /** EX_CONFIG from sysexits.h: the configuration is wrong, restarting will not help. */
  config: 78,
  interrupted: 130,
} as const;
