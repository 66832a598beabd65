import { BeepError } from "@beep/errors";

/** The code a call fails with (`OK` when it succeeds); anything but a BeepError is rethrown. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BeepError) return error.code;
    throw error;
  }
  return "OK";
}
