import type { ServiceImpl } from "@connectrpc/connect";
import type { PermissionCache } from "./permission-cache.ts";

// Reads never change permissions; every other ServersService method may.
const READ_ONLY = /^(get|list)/;

type Loose = Record<string, unknown> | undefined;

/** The server ids a write touched, from its request and response. */
function touched(cache: PermissionCache, request: Loose, response: Loose): string[] {
  const ids = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string" && value !== "") ids.add(value);
  };
  add(request?.serverId);
  add(response?.serverId);
  add((response?.server as Loose)?.id);
  add((response?.channel as Loose)?.serverId);
  if (typeof request?.channelId === "string") add(cache.serverOfChannel(request.channelId));
  return [...ids];
}

/**
 * Wraps the ServersService routes so a write drops the touched server's permission snapshot as soon as
 * it has committed in this process (the bus event does the same for every other process, a little later).
 */
export function invalidatingAfterWrites<S extends ServiceImpl<never>>(routes: S, cache: PermissionCache): S {
  const wrapped: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(routes as Record<string, unknown>)) {
    if (typeof handler !== "function" || READ_ONLY.test(name)) {
      wrapped[name] = handler;
      continue;
    }
    wrapped[name] = async (request: Loose, context: unknown) => {
      const before = touched(cache, request, undefined);
      try {
        const response = (await handler(request, context)) as Loose;
        for (const id of new Set([...before, ...touched(cache, request, response)])) cache.invalidate(id);
        return response;
      } catch (error) {
        for (const id of before) cache.invalidate(id);
        throw error;
      }
    };
  }
  return wrapped as S;
}
