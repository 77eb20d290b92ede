#!/usr/bin/env node
/**
 * `npm run dlq:replay`'s entry point. A Node.js outside the supported range stops it first, with one line.
 * A stop requested while the modules load is held rather than fatal: the handler is in place before they
 * are even read.
 */
import '@user-actions/shared/node-version';
import '@user-actions/shared/early-signals';

await import('./replay-daemon.js');
