import type { IncomingHttpHeaders } from "node:http";

/**
 * Headers only Beep itself may set on the way to a protected app (forward-auth's `X-User-Claim`). A client
 * could send them to pose as someone, so the listener deletes them from every incoming request, HTTP and
 * upgrade alike, before any route handler (GraphQL, RPC, `/auth/verify`) sees the request.
 */
export const EDGE_ONLY_HEADERS = ["x-user-claim"] as const;

/** Deletes the edge-only headers a client sent. */
export function stripEdgeOnlyHeaders(headers: IncomingHttpHeaders): void {
  for (const name of EDGE_ONLY_HEADERS) delete headers[name];
}
