import { type Kysely, sql } from "kysely";
import { MESSAGES_SCHEMA } from "../messages.schema-name.ts";

/**
 * Link previews (MSG-7): `embeds_content_md5` is the md5 of the content the stored embeds were computed
 * for, so the preview consumer does each content once (its own `message.updated` and redeliveries are
 * no-ops) and an edit that changes the text is previewed again. Null: never previewed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table ${sql.id(MESSAGES_SCHEMA, "messages")} add column embeds_content_md5 text`.execute(
    db,
  );
}
