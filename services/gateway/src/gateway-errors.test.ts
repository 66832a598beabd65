import { BeepError } from "@beep/errors";
import { createLogger } from "@beep/observability";
import { type ExecutionResult, GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { createErrorMasker, useVariableErrorsAsUserInput } from "./gateway-errors.ts";

/** What the plugin makes of an execution result, then what the masker makes of each error. */
function handled(result: ExecutionResult) {
  const lines: Record<string, unknown>[] = [];
  const mask = createErrorMasker(
    createLogger({
      service: "gateway-errors-test",
      level: "info",
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    }),
  );
  let final = result;
  const hooks = useVariableErrorsAsUserInput().onExecute?.({} as never) as {
    onExecuteDone: (payload: { result: ExecutionResult; setResult: (r: ExecutionResult) => void }) => void;
  };
  hooks.onExecuteDone({
    result,
    setResult: (r) => {
      final = r;
    },
  });
  const errors = (final.errors ?? []).map((error) => mask(error, "Unexpected error.") as GraphQLError);
  return { errors: errors.map((e) => ({ message: e.message, code: e.extensions.code })), lines };
}

/** A variable error as the executor makes it: graphql's coercion error wrapped with the variable's name. */
const variableError = (cause: Error) =>
  new GraphQLError(`Variable "$input" got invalid value 1; ${cause.message}`, { originalError: cause });

describe("useVariableErrorsAsUserInput", () => {
  it("gives graphql's own variable errors BAD_USER_INPUT, unlogged, message kept", () => {
    const missing = new GraphQLError('Variable "$input" of required type "X!" was not provided.');
    const coerced = variableError(new GraphQLError("String cannot represent a non string value: 1"));
    const { errors, lines } = handled({ errors: [missing, coerced] });
    expect(errors).toEqual([
      { message: missing.message, code: "BAD_USER_INPUT" },
      { message: coerced.message, code: "BAD_USER_INPUT" },
    ]);
    expect(lines).toEqual([]);
  });

  it("counts a BeepError BAD_USER_INPUT a scalar threw as the client's", () => {
    const scalar = new GraphQLError('Expected type "Permissions". Bad', {
      originalError: new BeepError("BAD_USER_INPUT", "Bad"),
    });
    expect(handled({ errors: [variableError(scalar)] }).errors[0]?.code).toBe("BAD_USER_INPUT");
  });

  it("leaves what a scalar threw by mistake to the masker: INTERNAL and logged", () => {
    const bug = new GraphQLError('Expected type "X". secret internals', {
      originalError: new TypeError("secret internals"),
    });
    const { errors, lines } = handled({ errors: [variableError(bug)] });
    expect(errors).toEqual([{ message: "Unexpected error.", code: "INTERNAL" }]);
    expect(lines.map((l) => l.message)).toEqual(["unexpected error in GraphQL request"]);
  });

  it("leaves results that ran, and errors with a code of their own, alone", () => {
    const resolverBug = new GraphQLError("boom", { path: ["me"], originalError: new Error("boom") });
    expect(handled({ data: { me: null }, errors: [resolverBug] }).errors).toEqual([
      { message: "Unexpected error.", code: "INTERNAL" },
    ]);
    const operation = new GraphQLError('Unknown operation named "B".', {
      extensions: { code: "OPERATION_RESOLUTION_FAILURE" },
    });
    expect(handled({ errors: [operation] }).errors[0]?.code).toBe("OPERATION_RESOLUTION_FAILURE");
  });
});
