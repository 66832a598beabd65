import type { Logger } from "@beep/observability";
import { LogMailer } from "./log-mailer.ts";
import type { Mailer } from "./mailer.ts";
import { SmtpMailer } from "./smtp-mailer.ts";

/** What createMailer reads (the `mail.*` config plus the run mode). */
export interface MailerOptions {
  url: string;
  from: string;
  /** Only obeyed when `env` is development. */
  logBodies: boolean;
  env: "development" | "production" | "test";
  logger: Logger;
}

/** The driver for `mail.url`'s scheme; an unknown scheme is a clear error. */
export function createMailer(options: MailerOptions): Mailer {
  const scheme = options.url.slice(0, Math.max(0, options.url.indexOf("://")));
  switch (scheme) {
    case "log":
      // Why: bodies hold sign-in codes; only a developer's own machine may print them.
      return new LogMailer(options.logger, options.logBodies && options.env === "development");
    case "smtp":
    case "smtps":
      return new SmtpMailer(options.url, options.from);
    default:
      throw new Error(`mail.url: unknown scheme "${scheme}" (use log://, smtp:// or smtps://)`);
  }
}
