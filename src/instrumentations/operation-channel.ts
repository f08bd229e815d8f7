/**
 * How a client patch tells the agent about its operations, in the manner of dd-trace's
 * instrumentations and plugins: the patch (pg, ioredis, ...) only publishes typed events (an
 * operation started, ended, a client was seen); metrics, spans and dependency discovery are
 * separate consumers that subscribe. One patch, many consumers, none knowing the others.
 *
 * Typed objects rather than `node:diagnostics_channel`: a consumer's exception must never reach
 * the app (diagnostics_channel rethrows it on the next tick), and the patch can ask cheaply
 * whether anyone listens at all. Channels are created by the integration that owns the patch
 * and handed to the patch and its consumers; none is a module global.
 */
import { reportOnce } from '../lifecycle/guard';

export interface OperationConsumer<Op> {
  /** The operation is about to run; the consumer may keep what it needs on `op` (a span). */
  start?(op: Op): void;
  /** The operation settled; `error` is undefined on success. Called once per started operation. */
  end?(op: Op, error: unknown): void;
}

export class OperationChannel<Op> {
  private starts: Array<NonNullable<OperationConsumer<Op>['start']>> = [];
  private ends: Array<NonNullable<OperationConsumer<Op>['end']>> = [];
  /**
   * A consumer needs the operation's callbacks to run in the caller's async context (spans: a
   * client library that calls back from its socket's handler would otherwise parent them wrongly).
   */
  bindsCallerContext = false;

  constructor(readonly name: string) {}

  get hasConsumers(): boolean {
    return this.starts.length > 0 || this.ends.length > 0;
  }

  subscribe(consumer: OperationConsumer<Op>, options: { bindsCallerContext?: boolean } = {}): void {
    if (consumer.start) this.starts.push(consumer.start.bind(consumer));
    if (consumer.end) this.ends.push(consumer.end.bind(consumer));
    if (options.bindsCallerContext) this.bindsCallerContext = true;
  }

  start(op: Op): void {
    for (let i = 0; i < this.starts.length; i++) {
      try {
        this.starts[i]!(op);
      } catch (error) {
        reportOnce(`${this.name} start consumer`, error);
      }
    }
  }

  end(op: Op, error: unknown): void {
    for (let i = 0; i < this.ends.length; i++) {
      try {
        this.ends[i]!(op, error);
      } catch (internal) {
        reportOnce(`${this.name} end consumer`, internal);
      }
    }
  }
}

/** A one-shot fact (a client was created, a module was loaded), for consumers such as dependency discovery. */
export class EventChannel<E> {
  private readonly listeners: Array<(event: E) => void> = [];

  constructor(readonly name: string) {}

  get hasConsumers(): boolean {
    return this.listeners.length > 0;
  }

  subscribe(listener: (event: E) => void): void {
    this.listeners.push(listener);
  }

  publish(event: E): void {
    for (let i = 0; i < this.listeners.length; i++) {
      try {
        this.listeners[i]!(event);
      } catch (error) {
        reportOnce(`${this.name} consumer`, error);
      }
    }
  }
}
