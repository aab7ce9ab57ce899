// The one place that calls the generated bindings. Every command is offered here unwrapped:
// it resolves with its data or throws an ApiError carrying the stable code (for branching)
// and core's sentence (for showing); the UI never writes its own text about why something
// was refused. The events the shell sends are the generated ones, typed the same way.
import { commands, type ErrorBody, type ErrorCode, type Field } from "./bindings";

export { events } from "./bindings";

type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export class ApiError extends Error {
  readonly code: ErrorCode;
  /** The form field it is about, when its code does not say (see `lib/form.svelte.ts`). */
  readonly field: Field | null;

  constructor(body: ErrorBody) {
    super(body.message);
    this.code = body.code;
    this.field = body.field ?? null;
  }
}

/**
 * Refusals after which the session is gone (it expired, or core ended it): the app goes back
 * to sign-in instead of showing the refusal where it happened.
 */
export function endsSession(code: ErrorCode): boolean {
  return code === "session_expired" || code === "not_signed_in";
}

let sessionEnded: (error: ApiError) => void = () => {};

/**
 * Sets what happens when any command finds the session gone: the one place that answers it,
 * for every screen (the command still throws, for its caller's `finally`).
 */
export function onSessionEnded(handler: (error: ApiError) => void) {
  sessionEnded = handler;
}

async function unwrap<T>(call: Promise<Result<T, ErrorBody>>): Promise<T> {
  const result = await call;
  if (result.status === "ok") return result.data;
  // A refusal from Tauri itself (a command the window may not call) is a string, not a body.
  const error = result.error as unknown;
  if (typeof error === "object" && error !== null && "code" in error) {
    const refusal = new ApiError(result.error);
    if (endsSession(refusal.code)) sessionEnded(refusal);
    throw refusal;
  }
  throw new ApiError({ code: "internal", message: "Something went wrong. Please try again." });
}

/** A sentence for any thrown value: core's own for refusals, a generic one otherwise. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return "Something went wrong. Please try again.";
}

type Commands = typeof commands;
type Data<R> = R extends Promise<Result<infer T, ErrorBody>> ? T : never;
type Api = {
  [K in keyof Commands]: (
    ...args: Parameters<Commands[K]>
  ) => Promise<Data<ReturnType<Commands[K]>>>;
};

export const api = Object.fromEntries(
  Object.entries(commands).map(([name, command]) => [
    name,
    (...args: unknown[]) =>
      unwrap((command as (...a: unknown[]) => Promise<Result<unknown, ErrorBody>>)(...args)),
  ]),
) as Api;
