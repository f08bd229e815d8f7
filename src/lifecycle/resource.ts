/**
 * The resource: what every span (and every pushed metric point) says about where it comes from.
 * OTEL_NODE_RESOURCE_DETECTORS chooses the detectors, as in OpenTelemetry's Node SDK; the
 * service name and version are always the agent's (config/env.ts decides them once).
 *
 * - env: OTEL_RESOURCE_ATTRIBUTES, as read by config/env.ts (with its warnings);
 * - host, os, serviceinstance (a random service.instance.id per process): upstream's detectors;
 * - process: upstream's, without process.command_args (a command line can carry a password);
 * - container: container.id from the cgroup files, when the process runs in a container.
 *
 * Built once at start, only when something uses it (traces, pushed metrics, target_info), so the
 * trace resource and the metric resource carry the same service.instance.id.
 */
import { readFileSync } from 'node:fs';
import {
  detectResources,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import { containerIdFrom } from '../config/container-id';
import type { AgentConfig, ResourceDetectorName } from '../config/types';

export const DISTRO_NAME = '@tutor/otel-agent';

const withoutCommandArgs: ResourceDetector = {
  detect(config) {
    const detected = processDetector.detect(config);
    const { ['process.command_args']: _dropped, ...attributes } = detected.attributes ?? {};
    return { ...detected, attributes };
  },
};

const containerDetector: ResourceDetector = {
  detect() {
    const id = containerIdFrom(readProc('/proc/self/cgroup'), readProc('/proc/self/mountinfo'));
    return { attributes: id ? { 'container.id': id } : {} };
  },
};

const DETECTORS: Record<Exclude<ResourceDetectorName, 'env'>, ResourceDetector> = {
  host: hostDetector,
  os: osDetector,
  process: withoutCommandArgs,
  container: containerDetector,
  serviceinstance: serviceInstanceIdDetector,
};

export function buildResource(config: AgentConfig): Resource {
  const detectors = config.resourceDetectors.flatMap((name) => (name === 'env' ? [] : [DETECTORS[name]]));
  const detected = detectResources({ detectors });
  return detected.merge(
    resourceFromAttributes({
      ...(config.resourceDetectors.includes('env') ? config.resourceAttributes : {}),
      'service.name': config.serviceName,
      'service.version': config.serviceVersion,
      'telemetry.distro.name': DISTRO_NAME,
    }),
  );
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // not Linux, or not readable: no container id
  }
}
