import type { ErrorCode } from "../lib/bindings";

/**
 * Refusals after which the session is gone (it expired, or core ended it): the screen goes
 * back to sign-in with core's sentence instead of asking again.
 */
export function endsSession(code: ErrorCode): boolean {
  return code === "session_expired" || code === "not_signed_in";
}
