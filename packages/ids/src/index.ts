export { BEEP_EPOCH_MS, isSnowflake, newId, SnowflakeGenerator, snowflakeTime } from "./snowflake.ts";
