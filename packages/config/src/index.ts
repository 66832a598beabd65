export {
  ConfigError,
  type ConfigKey,
  type ConfigSources,
  describeConfig,
  listConfigKeys,
  loadConfig,
} from "./config.loader.ts";
export { type BeepConfig, configSchema } from "./config.schema.ts";
export { type OidcProviderConfig, oidcProviderSchema, parseOidcProviders } from "./oidc-providers.ts";
