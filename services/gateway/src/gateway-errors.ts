import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import { GraphQLError } from "graphql";

/** GraphQL `extensions` for a BeepError: the stable code plus its safe details. */
export function extensionsFor(error: BeepError): Record<string, unknown> {
  const extensions: Record<string, unknown> = { code: error.code };
  if (error.details.field !== undefined) extensions.field = error.details.field;
  if (error.details.retryAfterMs !== undefined) extensions.retryAfterMs = error.details.retryAfterMs;
  if (error.details.challengeToken !== undefined) extensions.challengeToken = error.details.challengeToken;
  return extensions;
}

/**
 * Turns whatever a resolver threw into what a client may see: BeepErrors keep
 * their message and code; GraphQL's own request errors keep theirs; anything
 * else becomes INTERNAL and is logged with its stack, never shown.
 */
export function createErrorMasker(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    const path = error instanceof GraphQLError ? error.path : undefined;
    if (original instanceof BeepError) {
      return new GraphQLError(original.message, { path, extensions: extensionsFor(original) });
    }
    if (original instanceof GraphQLError && original.extensions?.code) return original;
    logger.error({ err: original, graphql_path: path?.join(".") }, "unexpected error in GraphQL request");
    return new GraphQLError(message || "Internal error", { path, extensions: { code: "INTERNAL" } });
  };
}
