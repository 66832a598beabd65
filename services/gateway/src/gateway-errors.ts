import { BeepError } from "@beep/errors";
import type { Logger } from "@beep/observability";
import { type ExecutionResult, GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

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

/**
 * Gives the errors of variable values that do not coerce to their declared types (missing, null for a
 * non-null type, wrong type, unknown input field, a scalar refusing the value) the code BAD_USER_INPUT:
 * they are the client's input, not a bug, so they keep graphql's message (it names the variable, where in
 * it and what is wrong, and nothing of the server) and are not logged. Registered before yoga's masked
 * errors, which would otherwise make them "Unexpected error." INTERNAL.
 *
 * Recognised by where they come from, not by their wording: the executor answers an operation it could not
 * start with errors and no `data` at all (graphql-over-http's request errors), and of those only the
 * variable errors have no code of their own (the operation resolution failures carry theirs; graphql-tools'
 * subscribe marks all of them BAD_USER_INPUT, which is kept). Such an error counts only when what it wraps
 * is graphql's own error or a BeepError BAD_USER_INPUT (the Permissions scalar): anything else a scalar
 * threw is a bug and stays for the masker to hide and log.
 *
 * The status is that of a request error: HTTP 400 under application/graphql-response+json, 200 under
 * application/json (`spec`), as yoga answers parse and validation errors.
 */
export function useVariableErrorsAsUserInput(): Plugin {
  const onResult = ({
    result,
    setResult,
  }: {
    result: ExecutionResult | AsyncIterable<unknown>;
    setResult: (result: ExecutionResult) => void;
  }) => {
    if (Symbol.asyncIterator in result || "data" in result || !result.errors) return;
    setResult({ ...result, errors: result.errors.map(asUserInput) });
  };
  // Made once: the hooks run on every operation.
  const executeHooks = { onExecuteDone: onResult };
  const subscribeHooks = { onSubscribeResult: onResult };
  return { onExecute: () => executeHooks, onSubscribe: () => subscribeHooks };
}

/** One error of a result that never ran, as BAD_USER_INPUT when it is a variable error (above). */
function asUserInput(error: GraphQLError): GraphQLError {
  const code = error.extensions?.code;
  if ((code !== undefined && code !== "BAD_USER_INPUT") || error.path !== undefined) return error;
  let cause: unknown = error.originalError;
  while (cause instanceof GraphQLError && cause.extensions?.code === undefined && cause.originalError)
    cause = cause.originalError;
  const expected =
    cause === undefined ||
    (cause instanceof GraphQLError && cause.extensions?.code === undefined) ||
    (cause instanceof BeepError && cause.code === "BAD_USER_INPUT");
  if (!expected) return error;
  // A new error without the one it wraps: the masker looks through to that, which has no code.
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    extensions: { code: "BAD_USER_INPUT", http: { status: 400, spec: true } },
  });
}
