import { type DocumentNode, getOperationAST } from "graphql";

/**
 * The grouping key of an `events` subscription. Subscriptions with the same key get the same payload bytes: the document,
 * operation name and variables, minus a variable used only as `since` (each
 * client resumes from its own seq, which does not change the selection).
 */
export function streamGroupKey(query: string, document: DocumentNode, payload: SubscribePayload): string {
  const variables = { ...(payload.variables ?? {}) };
  const operation = getOperationAST(document, payload.operationName);
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind !== "Field" || selection.name.value !== "events") continue;
    const since = selection.arguments?.find((argument) => argument.name.value === "since");
    if (since?.value.kind !== "Variable") continue;
    const name = since.value.name.value;
    // Declared once and used once: only `since` reads it.
    if ((query.match(new RegExp(`\\$${name}\\b`, "g")) ?? []).length === 2) delete variables[name];
  }
  return JSON.stringify([query, payload.operationName ?? null, variables]);
}

export interface SubscribePayload {
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}
