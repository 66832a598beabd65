import { firstUnstorablePath, isStorableText, UNSTORABLE_TEXT_MESSAGE } from "@beep/errors";
import { GraphQLError, type ValidationRule } from "graphql";
import type { Plugin } from "graphql-yoga";

/** What a request error of bad input carries: the code, and a 400 under application/graphql-response+json. */
const userInput = (field?: string) => ({
  code: "BAD_USER_INPUT",
  ...(field === undefined ? {} : { field }),
  http: { status: 400, spec: true },
});

/** String literals of the document: none may hold text that cannot be stored. */
const storableStringLiterals: ValidationRule = (context) => ({
  StringValue(node) {
    if (isStorableText(node.value)) return;
    context.reportError(
      new GraphQLError(`A string literal: ${UNSTORABLE_TEXT_MESSAGE}`, {
        nodes: [node],
        extensions: userInput(),
      }),
    );
  },
});

/**
 * Refuses, before anything runs, any operation whose variables or string literals hold text PostgreSQL
 * cannot store (a NUL, an unpaired UTF-16 surrogate) with BAD_USER_INPUT naming where it is.
 *
 * Why at the edge: every text input of every service ends in a text or jsonb column, where such text
 * fails the statement (an INTERNAL error for what is the client's mistake) or is silently replaced. One
 * check here covers every field of the API; RPC servers refuse the same for callers that reach them over
 * RPC (packages/rpc interceptors), and the messages service checks content and thread names itself, since
 * one bad send would otherwise fail its whole group commit. Placed before the validation cache: the rule's result is cached
 * with the document's.
 */
export function useStorableTextInputs(): Plugin {
  const refusal = (variableValues: unknown) => {
    const path = firstUnstorablePath(variableValues ?? undefined, "");
    if (path === undefined) return undefined;
    const field = path.slice(1);
    return {
      errors: [
        new GraphQLError(`Variable "$${field}": ${UNSTORABLE_TEXT_MESSAGE}`, {
          extensions: userInput(field),
        }),
      ],
    };
  };
  return {
    onValidate: ({ addValidationRule }) => addValidationRule(storableStringLiterals),
    onExecute({ args, setResultAndStopExecution }) {
      const refused = refusal(args.variableValues);
      if (refused) setResultAndStopExecution(refused);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = refusal(args.variableValues);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}
