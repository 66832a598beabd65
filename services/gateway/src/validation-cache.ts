import type { DocumentNode } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Remembers each parsed document's validation result, in place of yoga's own validation cache.
 *
 * Why: yoga keys its cache by the names of the validation rules, joined into a string on every request
 * (about thirty rules), then by schema, then by document. Here the schema is one and the rules are the
 * same on every request (graphql's specified rules, then armor's limits, added unconditionally by the
 * plugins before this one), so the document alone is the key. Documents come from yoga's parse cache
 * (one object per query text), so a WeakMap forgets them with it. Placed after armor, like yoga's
 * cache: a hit skips validation, armor's rules included, and stores the result armor's hooks shaped.
 */
export function useValidationCache(): Plugin {
  // What validation returned (envelop types it as errors of any kind), replayed as is.
  const results = new WeakMap<DocumentNode, readonly Error[]>();
  return {
    onValidate({ params: { documentAST }, setResult }) {
      const cached = results.get(documentAST);
      if (cached) {
        setResult(cached);
        return;
      }
      return ({ result }) => {
        results.set(documentAST, result);
      };
    },
  };
}
