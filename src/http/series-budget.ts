/**
 * Bounds the label sets of the per-request HTTP metrics (`http_requests_total`,
 * `http_request_duration_seconds` and their semantic-convention twin), not only the distinct
 * routes: method × route × status is a product, and 200 routes × 7 methods of junk once made 21,000
 * series. Pure: no clock, no I/O; one instance per metrics owner.
 *
 * Route policy (the `route` value, capped at the route limit):
 * - a framework template is always admitted and spends nothing: the app's code bounds templates;
 * - a 404 without a template is `__not_found__` (route-label.ts);
 * - another 4xx without a template keeps its folded path only if that path was admitted before
 *   (answered once with a non-4xx status), else it is `__not_found__` too: junk paths answered 400,
 *   401, 403, 405, ... never spend the route budget;
 * - any other folded raw path (bare http apps) spends the route budget; past it, `__overflow__`.
 *
 * Series policy (the label set, capped at the series limit):
 * - a label set seen before is kept as it is;
 * - label sets without a framework template may take at most half of the limit, so paths no
 *   framework matched never lock a real route out; label sets with a template may fill the rest;
 * - past that, a new label set is folded to method `_OTHER`, route `__overflow__` and the status
 *   class (`4xx`, `5xx`, ...; a `status_code=~"5.."` selector still matches it): at most ten
 *   more label sets, reserved inside the limit. Counts are never dropped, only folded.
 */
import { BoundedLabel, NOT_FOUND_ROUTE, OVERFLOW_ROUTE } from './route-label';

export const OTHER_METHOD = '_OTHER';

/** Folded label sets: one per status class, 1xx to 9xx (Node sends 100-999 only), and `other`. */
export const OVERFLOW_RESERVE = 10;

export type HttpLabels = readonly [method: string, route: string, statusCode: string];

/** `503` -> `5xx`. */
export function statusClass(statusCode: number): string {
  const digit = Math.trunc(statusCode / 100);
  return digit >= 1 && digit <= 9 ? `${digit}xx` : 'other';
}

export class HttpSeriesBudget {
  private readonly routes: BoundedLabel;
  private readonly admitted = new Set<string>();
  private untemplated = 0;
  /** Most label sets kept as they are; the reserve for folded ones is below the limit. */
  private readonly admittedLimit: number;
  /** Most label sets without a framework template. */
  private readonly untemplatedLimit: number;

  constructor(routeLimit: number, seriesLimit: number) {
    this.routes = new BoundedLabel(routeLimit, OVERFLOW_ROUTE);
    this.admittedLimit = Math.max(1, seriesLimit - OVERFLOW_RESERVE);
    this.untemplatedLimit = Math.min(this.admittedLimit, Math.max(1, Math.floor(seriesLimit / 2)));
  }

  /** Label sets kept as they are so far (folded ones not counted). */
  get size(): number {
    return this.admitted.size;
  }

  /** The `route` value after the route policy; `route` is routeLabel()'s answer. */
  route(route: string, templated: boolean, statusCode: number): string {
    if (templated || route === NOT_FOUND_ROUTE) return route;
    if (statusCode >= 400 && statusCode < 500) return this.routes.has(route) ? route : NOT_FOUND_ROUTE;
    return this.routes.admit(route);
  }

  /**
   * The labels to record a finished request under.
   * @param method already normalised (methodLabel)
   * @param route routeLabel()'s answer
   * @param templated a framework named the route template
   */
  labels(method: string, route: string, templated: boolean, statusCode: number): { labels: HttpLabels; folded: boolean } {
    const routeValue = this.route(route, templated, statusCode);
    const status = String(statusCode);
    const key = `${method.length}:${method}${routeValue.length}:${routeValue}${status}`;
    if (this.admitted.has(key)) return { labels: [method, routeValue, status], folded: false };
    const room = this.admitted.size < this.admittedLimit && (templated || this.untemplated < this.untemplatedLimit);
    if (!room) return { labels: [OTHER_METHOD, OVERFLOW_ROUTE, statusClass(statusCode)], folded: true };
    this.admitted.add(key);
    if (!templated) this.untemplated++;
    return { labels: [method, routeValue, status], folded: false };
  }
}
