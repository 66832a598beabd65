import { dataOf, graphql } from "../harness/graphql-client.ts";

/** A type reference as introspection gives it: wrappers (NON_NULL, LIST) around a named type. */
interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}

interface IntrospectedType {
  kind: string;
  name: string;
  fields: Array<{ name: string; args: Array<{ name: string; type: TypeRef }> }> | null;
  inputFields: Array<{ name: string; type: TypeRef }> | null;
}

interface Introspection {
  __schema: {
    queryType: { name: string };
    mutationType: { name: string } | null;
    types: IntrospectedType[];
  };
}

const TYPE_REF = `fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;
const INTROSPECT = `query {
  __schema {
    queryType { name }
    mutationType { name }
    types {
      kind name
      fields { name args { name type { ...TypeRef } } }
      inputFields { name type { ...TypeRef } }
    }
  }
}
${TYPE_REF}`;

/** One root operation field and the arguments (dotted through input objects) that name an object. */
export interface IdTakingField {
  /** `Query` or `Mutation`. */
  root: string;
  field: string;
  /** e.g. `["input.serverId", "input.userId"]`. */
  idArguments: string[];
}

function named(type: TypeRef): TypeRef {
  return type.ofType ? named(type.ofType) : type;
}

/**
 * Whether an argument names an existing object: every `ID` does (ids are the API's only object
 * references, api.md); besides, an invite is named by its `code`, a String, so `code` counts inside an
 * invite operation. (Other features' `code`s are one-time codes typed by the user, not object names.)
 */
function namesObject(rootField: string, inputType: string, argument: string, type: TypeRef): boolean {
  const leaf = named(type);
  if (leaf.kind === "SCALAR" && leaf.name === "ID") return true;
  return argument === "code" && /invite/i.test(`${rootField} ${inputType}`);
}

/**
 * Every Query and Mutation field of the live gateway schema that takes an object id, by introspection,
 * so what is checked is what the deployment serves.
 */
export async function idTakingFields(url: string): Promise<IdTakingField[]> {
  const { __schema: schema } = dataOf(await graphql<Introspection>(url, INTROSPECT));
  const types = new Map(schema.types.map((type) => [type.name, type]));
  const found: IdTakingField[] = [];
  for (const rootName of [schema.queryType.name, schema.mutationType?.name]) {
    const root = rootName ? types.get(rootName) : undefined;
    for (const field of root?.fields ?? []) {
      const idArguments: string[] = [];
      const walk = (
        inputs: Array<{ name: string; type: TypeRef }>,
        prefix: string,
        inputType: string,
        seen: Set<string>,
      ) => {
        for (const input of inputs) {
          const leaf = named(input.type);
          const object = leaf.name ? types.get(leaf.name) : undefined;
          if (object?.kind === "INPUT_OBJECT" && !seen.has(object.name)) {
            walk(
              object.inputFields ?? [],
              `${prefix}${input.name}.`,
              object.name,
              new Set([...seen, object.name]),
            );
          } else if (namesObject(field.name, inputType, input.name, input.type)) {
            idArguments.push(`${prefix}${input.name}`);
          }
        }
      };
      walk(field.args, "", "", new Set());
      if (idArguments.length > 0) found.push({ root: root?.name ?? "", field: field.name, idArguments });
    }
  }
  return found;
}
