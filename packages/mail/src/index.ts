export { createMailer, type MailerOptions } from "./create-mailer.ts";
export { LogMailer } from "./log-mailer.ts";
export type { Mailer, MailMessage } from "./mailer.ts";
export { SmtpMailer } from "./smtp-mailer.ts";
export {
  isLanguage,
  LANGUAGES,
  type Language,
  type MailTemplates,
  type RenderedMail,
  renderMail,
} from "./templates.ts";
