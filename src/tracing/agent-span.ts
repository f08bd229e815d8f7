/**
 * The span the agent's own hooks record (HTTP server, pg, ioredis, node-redis): the API's `Span`
 * for the code that fills it, and the SDK's `ReadableSpan` for the span processors and exporters
 * that read it, which take it as they take the SDK's own span.
 *
 * Why not the SDK's span: its constructor, per-attribute validation and clock reads were most of
 * the cost of a traced request in the benchmark, for spans whose attributes the agent sets itself
 * (strings, numbers, booleans). This one behaves as the SDK's does, rule for rule (span limits,
 * invalid values ignored, the status rules, the exception event, the times, the processors'
 * onStart / onEnding / onEnd), and takes the cheap path first: a typeof check before the SDK's
 * full value validation, which only values of other types reach.
 */
import {
  diag,
  SpanStatusCode,
  type Exception,
  type HrTime,
  type Link,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api';
import {
  AddAttributeDecision,
  cleanAttributes,
  cleanSimpleAttributes,
  hrTime,
  hrTimeDuration,
  isTimeInput,
  isTimeInputHrTime,
  maybeAddAttribute,
  millisToHrTime,
  type InstrumentationScope,
} from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { Span as SdkSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace';
import type { SpanLimitSettings } from '../config/types';

/** What every span of one tracer shares: where it comes from, its limits, who is told of it. */
export interface SpanPipeline {
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly limits: SpanLimitSettings;
  /** The tracer provider's span processors, in its order. */
  readonly processors: readonly SpanProcessor[];
  /** Those of them with an `onEnding` (called before the span is marked ended, as the SDK does). */
  readonly endingProcessors: readonly SpanProcessor[];
}

// The semantic-convention names the SDK's recordException uses.
const EXCEPTION_EVENT = 'exception';
const EXCEPTION_TYPE = 'exception.type';
const EXCEPTION_MESSAGE = 'exception.message';
const EXCEPTION_STACKTRACE = 'exception.stacktrace';

export class AgentSpan implements SdkSpan {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly attributes: SpanAttributes;
  links: Link[];
  readonly events: TimedEvent[] = [];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  duration: HrTime = [-1, -1];
  ended = false;
  droppedAttributesCount: number;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;

  private readonly context: SpanContext;
  private readonly pipeline: SpanPipeline;
  private attributesCount: number;
  /** performance.now() at the start, and the offset from it to the wall clock (the SDK's way). */
  private readonly performanceStart: number;
  private readonly performanceOffset: number;
  private readonly startTimeGiven: boolean;

  /**
   * `attributes` and the links' attributes are already cleaned (the sampler saw them); the span
   * keeps `attributes` as its own object. The tracer calls the processors' onStart after this.
   */
  constructor(
    pipeline: SpanPipeline,
    spanContext: SpanContext,
    parentSpanContext: SpanContext | undefined,
    name: string,
    kind: SpanKind,
    attributes: SpanAttributes,
    attributesCount: number,
    droppedAttributesCount: number,
    links: Link[],
    startTime: TimeInput | undefined,
  ) {
    const now = Date.now();
    this.pipeline = pipeline;
    this.context = spanContext;
    this.parentSpanContext = parentSpanContext;
    this.name = name;
    this.kind = kind;
    this.resource = pipeline.resource;
    this.instrumentationScope = pipeline.instrumentationScope;
    this.performanceStart = performance.now();
    this.performanceOffset = now - (this.performanceStart + performance.timeOrigin);
    this.startTimeGiven = startTime != null;
    // As the SDK: the wall clock at the start, then the monotonic clock for the duration.
    this.startTime = startTime == null ? millisToHrTime(now) : this.timeOf(startTime);
    const { linkCountLimit } = pipeline.limits;
    if (links.length > linkCountLimit) {
      this.links = links.slice(links.length - linkCountLimit);
      this.droppedLinksCount = links.length - linkCountLimit;
    } else {
      this.links = links;
    }
    this.attributes = attributes;
    this.attributesCount = attributesCount;
    this.droppedAttributesCount = droppedAttributesCount;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  setAttribute(key: string, value: SpanAttributeValue): this {
    if (this.ended) return this.warnEnded();
    const limits = this.pipeline.limits;
    const type = typeof value;
    // The values the agent sets, checked by type alone; anything else (arrays, objects, bytes,
    // invalid values, an empty key, a limit that is not positive) takes the SDK's own checks.
    if ((type === 'string' || type === 'number' || type === 'boolean') && key.length !== 0 && limits.attributeValueLengthLimit > 0) {
      const isNew = !Object.hasOwn(this.attributes, key);
      if (isNew && this.attributesCount >= limits.attributeCountLimit) {
        this.dropAttribute();
        return this;
      }
      this.attributes[key] =
        type === 'string' && (value as string).length > limits.attributeValueLengthLimit
          ? (value as string).substring(0, limits.attributeValueLengthLimit)
          : value;
      if (isNew) this.attributesCount++;
      return this;
    }
    const decision = maybeAddAttribute({ key, value, attributes: this.attributes, limits, currentAttributesCount: this.attributesCount });
    if (decision === AddAttributeDecision.DROP_LIMIT_REACHED) this.dropAttribute();
    else if (decision === AddAttributeDecision.ADD_NEW) this.attributesCount++;
    return this;
  }

  setAttributes(attributes: SpanAttributes): this {
    for (const key in attributes) {
      if (Object.prototype.hasOwnProperty.call(attributes, key)) this.setAttribute(key, attributes[key] as SpanAttributeValue);
    }
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: SpanAttributes | TimeInput, timeStamp?: TimeInput): this {
    if (this.ended) return this.warnEnded();
    const { eventCountLimit, attributePerEventCountLimit, attributeValueLengthLimit } = this.pipeline.limits;
    if (eventCountLimit === 0) {
      diag.warn('No events allowed.');
      this.droppedEventsCount++;
      return this;
    }
    if (this.events.length >= eventCountLimit) {
      if (this.droppedEventsCount === 0) diag.debug('Dropping extra events.');
      this.events.shift();
      this.droppedEventsCount++;
    }
    if (isTimeInput(attributesOrStartTime)) {
      if (!isTimeInput(timeStamp)) timeStamp = attributesOrStartTime;
      attributesOrStartTime = undefined;
    }
    this.events.push({
      name,
      time: this.timeOf(timeStamp),
      ...cleanSimpleAttributes(attributesOrStartTime, { attributeCountLimit: attributePerEventCountLimit, attributeValueLengthLimit }),
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this.warnEnded();
    const { linkCountLimit, attributePerLinkCountLimit, attributeValueLengthLimit } = this.pipeline.limits;
    if (linkCountLimit === 0) {
      this.droppedLinksCount++;
      return this;
    }
    if (this.links.length >= linkCountLimit) {
      if (this.droppedLinksCount === 0) diag.debug('Dropping extra links.');
      this.links.shift();
      this.droppedLinksCount++;
    }
    this.links.push(cleanLink(link, attributePerLinkCountLimit, attributeValueLengthLimit));
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  /** The SDK's rules: UNSET changes nothing, OK is final, a message only with ERROR and only a string. */
  setStatus(status: SpanStatus): this {
    if (this.ended) return this.warnEnded();
    if (status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    const next: SpanStatus = { code: status.code };
    if (status.code === SpanStatusCode.ERROR) {
      if (typeof status.message === 'string') next.message = status.message;
      else if (status.message != null) diag.warn(`Dropping invalid status.message of type '${typeof status.message}', expected 'string'`);
    }
    this.status = next;
    return this;
  }

  updateName(name: string): this {
    if (this.ended) return this.warnEnded();
    this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      diag.error(`${this.name} ${this.context.traceId}-${this.context.spanId} - You can only call end() on a span once.`);
      return;
    }
    this.endTime = this.timeOf(endTime);
    this.duration = hrTimeDuration(this.startTime, this.endTime);
    if (this.duration[0] < 0) {
      diag.warn('Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.', this.startTime, this.endTime);
      this.endTime = this.startTime.slice() as HrTime;
      this.duration = [0, 0];
    }
    if (this.droppedEventsCount > 0) diag.warn(`Dropped ${this.droppedEventsCount} events because eventCountLimit reached`);
    if (this.droppedLinksCount > 0) diag.warn(`Dropped ${this.droppedLinksCount} links because linkCountLimit reached`);
    const { processors, endingProcessors } = this.pipeline;
    for (const processor of endingProcessors) processor.onEnding!(this);
    this.ended = true;
    for (const processor of processors) processor.onEnd(this);
  }

  /** The SDK's exception event: type from `code` or `name`, message, stack trace. */
  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: SpanAttributes = {};
    if (typeof exception === 'string') {
      attributes[EXCEPTION_MESSAGE] = exception;
    } else if (exception) {
      if (exception.code) attributes[EXCEPTION_TYPE] = exception.code.toString();
      else if (exception.name) attributes[EXCEPTION_TYPE] = exception.name;
      if (exception.message) attributes[EXCEPTION_MESSAGE] = exception.message;
      if (exception.stack) attributes[EXCEPTION_STACKTRACE] = exception.stack;
    }
    if (attributes[EXCEPTION_TYPE] || attributes[EXCEPTION_MESSAGE]) {
      this.addEvent(EXCEPTION_EVENT, attributes, time);
      return;
    }
    // The SDK's words. Its template string would call the object's own toString, which could
    // throw into the caller; this prints the object's tag instead.
    diag.warn(`Failed to record an exception ${typeof exception === 'string' ? exception : Object.prototype.toString.call(exception)}`);
  }

  /**
   * A time as the SDK reads it: a number no later than performance.now() is on the monotonic clock
   * (pg's query start), a larger one is epoch milliseconds; nothing given: the start plus the
   * monotonic time since (or the wall clock, when the start was given).
   */
  private timeOf(input: TimeInput | undefined): HrTime {
    if (typeof input === 'number') return input <= performance.now() ? hrTime(input + this.performanceOffset) : millisToHrTime(input);
    if (input instanceof Date) return millisToHrTime(input.getTime());
    if (isTimeInputHrTime(input)) return input;
    if (this.startTimeGiven) return millisToHrTime(Date.now());
    // addHrTimes(startTime, millisToHrTime(elapsed)), the SDK's arithmetic, with one array.
    const elapsed = performance.now() - this.performanceStart;
    let seconds = this.startTime[0] + Math.trunc(elapsed / 1000);
    let nanos = this.startTime[1] + Math.round((elapsed % 1000) * 1e6);
    if (nanos >= 1e9) {
      nanos -= 1e9;
      seconds += 1;
    }
    return [seconds, nanos];
  }

  private dropAttribute(): void {
    this.droppedAttributesCount++;
    if (this.droppedAttributesCount === 1) diag.warn('Dropping extra attributes.');
  }

  /** The SDK's warning for an operation on an ended span (with a stack, to find the caller). */
  private warnEnded(): this {
    const { traceId, spanId } = this.context;
    const error = new Error(`Operation attempted on ended Span {traceId: ${traceId}, spanId: ${spanId}}`);
    diag.warn(`Cannot execute the operation on ended Span {traceId: ${traceId}, spanId: ${spanId}}`, error);
    return this;
  }
}

/** A link with its attributes cleaned under the per-link limits, as the SDK keeps it. */
export function cleanLink(link: Link, attributeCountLimit: number, attributeValueLengthLimit: number): Link {
  return { context: link.context, ...cleanAttributes(link.attributes, { attributeCountLimit, attributeValueLengthLimit }) };
}
