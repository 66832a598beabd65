import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const PREFIX = "enc:v1:";

/**
 * Encrypts TOTP secrets at rest with AES-256-GCM under `auth.totp.secretKey`,
 * bound to the account id (as additional data) so a row copied onto another
 * account does not decrypt. Without a key, secrets are stored as they are;
 * rows written either way stay readable once a key is set.
 */
export class TotpSecretBox {
  private readonly key: Buffer | undefined;

  /** `base64Key`: 32 bytes in base64, or empty for no encryption. */
  constructor(base64Key: string) {
    this.key = base64Key === "" ? undefined : Buffer.from(base64Key, "base64");
    if (this.key && this.key.length !== 32) throw new Error("auth.totp.secretKey must be 32 bytes in base64");
  }

  /** The stored form of a secret. */
  seal(secret: string, accountId: string): string {
    if (!this.key) return secret;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv).setAAD(Buffer.from(accountId));
    const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return `${PREFIX}${[iv, sealed, cipher.getAuthTag()].map((part) => part.toString("base64url")).join(".")}`;
  }

  /** The secret from its stored form; throws when it was encrypted and no (or another) key is set. */
  open(stored: string, accountId: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    if (!this.key) throw new Error("a TOTP secret is encrypted but auth.totp.secretKey is not set");
    const [iv, sealed, tag] = stored
      .slice(PREFIX.length)
      .split(".")
      .map((part) => Buffer.from(part, "base64url"));
    if (!iv || !sealed || !tag) throw new Error("malformed encrypted TOTP secret");
    const decipher = createDecipheriv("aes-256-gcm", this.key, iv).setAAD(Buffer.from(accountId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed), decipher.final()]).toString("utf8");
  }
}
