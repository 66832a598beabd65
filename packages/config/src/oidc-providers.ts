import { z } from "zod";

/** One OpenID Connect provider users may sign in with (AUTH-5). */
export const oidcProviderSchema = z.strictObject({
  /** Short name used in URLs (`/auth/oidc/<name>/start`) and in `users.external_identities.provider` (`oidc:<name>`). */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "must be 1–32 lower-case letters, digits, - or _"),
  /** Issuer URL; discovery reads `<issuer>/.well-known/openid-configuration` on first use. */
  issuer: z.url({ protocol: /^https?$/ }),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Scopes asked for; `openid` is always added. */
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(["openid", "email", "profile"]),
});

/** A configured OpenID Connect provider. */
export type OidcProviderConfig = z.infer<typeof oidcProviderSchema>;

const providersSchema = z
  .array(oidcProviderSchema)
  .max(20)
  .refine((list) => new Set(list.map((p) => p.name)).size === list.length, {
    message: "names must be unique",
  });

/**
 * Parses `auth.oidcProviders` (a JSON array). Throws an Error naming the
 * problem, never echoing values (the string holds client secrets).
 */
export function parseOidcProviders(json: string): OidcProviderConfig[] {
  if (json.trim() === "") return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error("must be a JSON array of { name, issuer, clientId, clientSecret, scopes }");
  }
  const parsed = providersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${issue?.path.join(".") || "value"}: ${issue?.message ?? "invalid"}`.replace(/"[^"]*"/g, "…"),
    );
  }
  return parsed.data.map((p) => ({ ...p, scopes: [...new Set(["openid", ...p.scopes])] }));
}
