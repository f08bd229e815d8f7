/**
 * Which route of the app spends the tokens: the inbound HTTP request being served where a
 * generation starts.
 *
 * The request records (http/requests.ts) know the request being served, across the handler, what
 * it starts, and the request's own events (frameworks go on with the handler inside them: a body
 * parser calls the route from its 'end' listener). Code continued from
 * `await`, timers and the request's events keeps the route; a callback that a library calls from
 * its own socket (without propagating async context) does not, and its generations get
 * `__none__`. It works with tracing on or off; the route is computed when the generation starts,
 * once the framework has matched its template.
 */
import type { ServerRequests } from '../http/requests';
import { routeLabel } from '../http/route-label';
import { NO_ROUTE } from './metrics';

/** The route label (before the cap) of the request being served here, or NO_ROUTE. */
export function routeOfCurrentRequest(requests: ServerRequests): () => string {
  requests.trackCurrentRequest();
  return () => {
    const record = requests.currentRecord();
    if (!record) return NO_ROUTE;
    const { request } = record;
    return routeLabel(requests.routeTemplate(request), request.originalUrl ?? request.url, 200);
  };
}
