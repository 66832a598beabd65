export { type AddressVerdict, classifyAddress } from "./ip-policy.ts";
export {
  type HostResolver,
  SafeFetchError,
  type SafeFetchErrorCode,
  type SafeFetchOptions,
  type SafeFetchResponse,
  safeFetch,
} from "./safe-fetch.ts";
