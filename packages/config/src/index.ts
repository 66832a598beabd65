export {
  type ConfigKey,
  ConfigError,
  type ConfigSources,
  describeConfig,
  listConfigKeys,
  loadConfig,
} from "./config.loader.ts";
export { type BeepConfig, configSchema } from "./config.schema.ts";
