/**
 * The span the agent's tracer returns when the sampler says "do not record": the API's
 * `NonRecordingSpan`, with two differences that matter on the path of a request nobody will see
 * (nine in ten with "one trace in ten"):
 * - its span id is made the first time someone asks for its span context. Only a call that passes
 *   the trace on (an outgoing request's `traceparent`) or a child span needs it; a request that
 *   queries its database and cache and answers never does.
 * - its class says where it came from: the tracer made its trace id, so a child, or the
 *   `recordsUnder` question of the agent's hooks, knows it is valid (and not sampled) without the
 *   API's regular expressions.
 */
import {
  TraceFlags,
  type Exception,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
  type TraceState,
} from '@opentelemetry/api';
import { newSpanId } from './ids';

export class UnsampledSpan implements Span {
  private context: SpanContext | undefined;

  constructor(
    private readonly traceId: string,
    private readonly traceState: TraceState | undefined,
  ) {}

  /** Always the same object, its span id made on the first call. */
  spanContext(): SpanContext {
    return (this.context ??= { traceId: this.traceId, spanId: newSpanId(), traceFlags: TraceFlags.NONE, traceState: this.traceState });
  }

  // Everything below records nothing, as the API's NonRecordingSpan.
  setAttribute(_key: string, _value: SpanAttributeValue): this {
    return this;
  }

  setAttributes(_attributes: SpanAttributes): this {
    return this;
  }

  addEvent(_name: string, _attributesOrStartTime?: SpanAttributes | TimeInput, _startTime?: TimeInput): this {
    return this;
  }

  addLink(_link: Link): this {
    return this;
  }

  addLinks(_links: Link[]): this {
    return this;
  }

  setStatus(_status: SpanStatus): this {
    return this;
  }

  updateName(_name: string): this {
    return this;
  }

  end(_endTime?: TimeInput): void {}

  isRecording(): boolean {
    return false;
  }

  recordException(_exception: Exception, _time?: TimeInput): void {}
}
