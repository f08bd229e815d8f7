// The benchmark's @sentry/node peer: the SDK set up as its docs say for an ES-module app
// (`node --import ./sentry-preload.mjs app.mjs`), every trace sampled, sending to the benchmark's
// loopback ingest (SENTRY_DSN, set by the benchmark).
import * as Sentry from '@sentry/node';

Sentry.init({ dsn: process.env.SENTRY_DSN, tracesSampleRate: 1 });
