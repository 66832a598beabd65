import { describe, expect, it } from "vitest";
import { describeConfig, loadConfig } from "./config.loader.ts";
import { parseOidcProviders } from "./oidc-providers.ts";

const SECRET = "s3cr3t-client-secret-value";
const provider = {
  name: "keycloak",
  issuer: "https://sso.example.org/realms/beep",
  clientId: "beep",
  clientSecret: SECRET,
};

describe("auth.oidcProviders", () => {
  it("parses providers and always asks for the openid scope", () => {
    const [parsed] = parseOidcProviders(JSON.stringify([{ ...provider, scopes: ["email"] }]));
    expect(parsed).toMatchObject({ name: "keycloak", clientId: "beep", scopes: ["openid", "email"] });
    expect(parseOidcProviders(JSON.stringify([provider]))[0]?.scopes).toEqual(["openid", "email", "profile"]);
    expect(parseOidcProviders("")).toEqual([]);
  });

  it("refuses bad JSON, bad issuers, bad names and duplicates at start", () => {
    expect(() => parseOidcProviders("[{")).toThrow(/JSON array/);
    expect(() => parseOidcProviders(JSON.stringify([{ ...provider, issuer: "ftp://x" }]))).toThrow(/issuer/);
    expect(() => parseOidcProviders(JSON.stringify([{ ...provider, name: "Key Cloak" }]))).toThrow(/name/);
    expect(() => parseOidcProviders(JSON.stringify([{ ...provider, clientSecret: "" }]))).toThrow(
      /clientSecret/,
    );
    expect(() => parseOidcProviders(JSON.stringify([provider, provider]))).toThrow(/unique/);
    expect(() => loadConfig({ env: { BEEP_AUTH_OIDC_PROVIDERS: "[{" } })).toThrow(/auth\.oidcProviders/);
  });

  it("never prints the client secret, valid or not", () => {
    const valid = JSON.stringify([provider]);
    const config = loadConfig({ env: { BEEP_AUTH_OIDC_PROVIDERS: valid } });
    expect(config.auth.oidcProviders).toBe(valid);
    const printed = describeConfig(config).join("\n");
    expect(printed).toContain("auth.oidcProviders = [secret]");
    expect(printed).not.toContain(SECRET);

    let message = "";
    try {
      loadConfig({ env: { BEEP_AUTH_OIDC_PROVIDERS: JSON.stringify([{ ...provider, issuer: SECRET }]) } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("auth.oidcProviders");
    expect(message).not.toContain(SECRET);
  });
});
