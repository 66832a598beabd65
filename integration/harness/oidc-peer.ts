import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";
import { freePort } from "./beep-process.ts";

/** A person known to the test OpenID provider. */
export interface OidcPerson {
  sub: string;
  email: string;
  emailVerified?: boolean;
  preferredUsername?: string;
  givenName?: string;
  familyName?: string;
}

/** The name Beep knows the test provider by. */
export const OIDC_PEER_NAME = "testop";
/** A second configured provider whose issuer never answers. */
export const OIDC_DEAD_PEER_NAME = "deadop";
const CLIENT_ID = "beep-it";
const CLIENT_SECRET = "beep-it-client-secret-9f2c";

const reserved = new Map<string, number>();

/**
 * Env for a Beep deployment whose public URL is `gatewayUrl`, pointing at a
 * test provider that {@link startOidcPeer} starts later on a reserved port
 * (discovery is lazy, so Beep starts before its provider does).
 */
export async function oidcPeerEnv(gatewayUrl: string): Promise<Record<string, string>> {
  const port = await freePort();
  reserved.set(gatewayUrl, port);
  return {
    BEEP_HTTP_PUBLIC_URL: gatewayUrl,
    BEEP_AUTH_OIDC_PROVIDERS: JSON.stringify([
      {
        name: OIDC_PEER_NAME,
        issuer: `http://127.0.0.1:${port}`,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        scopes: ["openid", "email", "profile"],
      },
      {
        name: OIDC_DEAD_PEER_NAME,
        issuer: `http://127.0.0.1:${await freePort()}`,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        scopes: ["openid"],
      },
    ]),
  };
}

/** A running `oidc-provider` with one client and an in-memory account store. */
export interface OidcPeer {
  readonly issuer: string;
  /** Adds (or replaces) a person who can sign in. */
  addPerson(person: OidcPerson): void;
  /**
   * Plays the browser at the provider: follows `authorizationUrl`, signs in
   * as `sub` and consents, and returns the redirect back to Beep's callback.
   */
  authorize(authorizationUrl: string, sub: string): Promise<URL>;
  stop(): Promise<void>;
}

/** Starts the provider reserved for the deployment at `gatewayUrl`. */
export async function startOidcPeer(gatewayUrl: string): Promise<OidcPeer> {
  const port = reserved.get(gatewayUrl);
  if (port === undefined) throw new Error(`no OIDC peer reserved for ${gatewayUrl}`);
  const issuer = `http://127.0.0.1:${port}`;
  const people = new Map<string, OidcPerson>();
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: "it-rs256", alg: "RS256", use: "sig" };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${gatewayUrl}/auth/oidc/${OIDC_PEER_NAME}/callback`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ["it-cookie-key-1"] },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["preferred_username", "given_name", "family_name", "name"],
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: {
      AccessToken: 300,
      AuthorizationCode: 60,
      Grant: 600,
      IdToken: 300,
      Interaction: 600,
      Session: 600,
    },
    findAccount: (_ctx, sub) => {
      const person = people.get(sub);
      if (!person) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          email: person.email,
          email_verified: person.emailVerified ?? true,
          preferred_username: person.preferredUsername,
          given_name: person.givenName,
          family_name: person.familyName,
          name: [person.givenName, person.familyName].filter(Boolean).join(" ") || undefined,
        }),
      };
    },
  });
  // Which person the next interaction signs in as, by interaction uid.
  const pending = new Map<string, string>();
  const callback = provider.callback();
  const server: Server = createServer((req, res) => {
    const match = /^\/interaction\/([^/?]+)/.exec(req.url ?? "");
    if (!match) {
      callback(req, res);
      return;
    }
    (async () => {
      const details = await provider.interactionDetails(req, res);
      const sub = pending.get(details.uid) ?? [...pending.values()].at(-1);
      if (!sub) throw new Error("no person chosen for this interaction");
      const grant = new provider.Grant({ accountId: sub, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: sub }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
    })().catch((error: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const boundPort = (server.address() as AddressInfo).port;
  if (boundPort !== port) throw new Error("OIDC peer bound an unexpected port");

  return {
    issuer,
    addPerson(person) {
      people.set(person.sub, person);
    },
    async authorize(authorizationUrl, sub) {
      const jar = new Map<string, string>();
      let url = new URL(authorizationUrl);
      for (let hop = 0; hop < 10; hop++) {
        if (url.origin !== issuer) return url;
        if (url.pathname.startsWith("/interaction/")) pending.set(url.pathname.split("/")[2] ?? "", sub);
        const response = await fetch(url, {
          redirect: "manual",
          headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") },
        });
        for (const cookie of response.headers.getSetCookie()) {
          const [pair = ""] = cookie.split(";");
          const eq = pair.indexOf("=");
          jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
        }
        const location = response.headers.get("location");
        if (!location) {
          throw new Error(
            `OIDC peer answered ${response.status} at ${url.pathname}: ${await response.text()}`,
          );
        }
        url = new URL(location, url);
      }
      throw new Error("too many redirects at the OIDC peer");
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
