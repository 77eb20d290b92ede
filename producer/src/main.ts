#!/usr/bin/env -S node --max-semi-space-size=64
/**
 * The producer's entry point. A Node.js outside the supported range stops it first, with one line. A stop
 * requested while the daemon's modules load (a second or two on a slow machine) is held rather than fatal:
 * the handler is in place before they are even read.
 */
import '@user-actions/shared/node-version';
import '@user-actions/shared/early-signals';
import './gc-tuning.js';

await import('./producer-daemon.js');
