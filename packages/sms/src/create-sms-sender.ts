import type { Logger } from "@beep/observability";
import { HttpSmsSender } from "./http-sms-sender.ts";
import { LogSmsSender } from "./log-sms-sender.ts";
import type { SmsSender } from "./sms-sender.ts";

/** The driver for `sms.url`'s scheme; an unknown scheme is a clear error. */
export function createSmsSender(options: {
  url: string;
  token: string;
  logger: Logger;
  /** Write the text of log:// messages; only obeyed when `env` is development. */
  logText?: boolean;
  env?: "development" | "production" | "test";
}): SmsSender {
  const scheme = options.url.slice(0, Math.max(0, options.url.indexOf("://")));
  switch (scheme) {
    case "log":
      return new LogSmsSender(options.logger, options.logText === true && options.env === "development");
    case "http":
    case "https":
      return new HttpSmsSender(options.url, options.token);
    default:
      throw new Error(`sms.url: unknown scheme "${scheme}" (use log://, http:// or https://)`);
  }
}
