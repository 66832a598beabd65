export { createSmsSender } from "./create-sms-sender.ts";
export { HttpSmsSender } from "./http-sms-sender.ts";
export { LogSmsSender } from "./log-sms-sender.ts";
export type { SmsMessage, SmsSender } from "./sms-sender.ts";
