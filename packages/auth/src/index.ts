export {
  ACCESS_TOKEN_ALGORITHMS,
  ACCESS_TOKEN_TYPE,
  type AccessClaims,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  parseBearer,
} from "./access-token.ts";
export { RevokedSessions } from "./revoked-sessions.ts";
export { type AuthenticatedCaller, CallerAuthenticator } from "./rpc-caller.ts";
