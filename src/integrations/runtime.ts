/** `runtime`: Node.js process and runtime metrics under prom-client's names. Always on. */
import { watchAppListening } from '../lifecycle/app-state';
import { registerRuntimeMetrics } from '../metrics/runtime-metrics';
import type { Integration } from './types';

export const runtimeIntegration: Integration = {
  name: 'runtime',
  switchable: false,
  provides: ['metrics'],
  enabled: () => true,
  start({ metrics }) {
    // /ready waits for the app's first listening server.
    watchAppListening();
    registerRuntimeMetrics(metrics.meter);
  },
};
