#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=2000
/**
 * The consumer's entry point. A Node.js outside the supported range stops it first, with one line. A stop
 * requested while the daemon's modules load (a second or two on a slow machine) is held rather than fatal:
 * the handler is in place before they are even read.
 */
import '@user-actions/shared/node-version';
import '@user-actions/shared/early-signals';

await import('./consumer-daemon.js');
