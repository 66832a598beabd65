import { accountSchema } from "./account.schema.ts";
import { baseSchema } from "./base.schema.ts";
import { identitySchema } from "./identity.schema.ts";
import type { SchemaModule } from "./schema-module.ts";

/** Every slice of the public schema; a feature adds one file and one line here. */
export const schemaModules: readonly SchemaModule[] = [baseSchema, identitySchema, accountSchema];
