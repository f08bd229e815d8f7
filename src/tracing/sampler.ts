/** Builds the sampler named by OTEL_TRACES_SAMPLER / _ARG. */
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';
import type { SamplerName } from '../config/types';

export function buildSampler(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    case 'parentbased_always_on':
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Whether the sampler named keeps a child's decision equal to its parent's when the parent is not
 * sampled: the parent-based ones (their default for such a parent is always off), and always_off,
 * which records nothing anyway. traceidratio and always_on decide each span on its own.
 */
export function followsParent(name: SamplerName): boolean {
  return name !== 'traceidratio' && name !== 'always_on';
}
