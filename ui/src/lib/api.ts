// The one place that calls the generated bindings. Every command is offered here unwrapped:
// it resolves with its data or throws an ApiError carrying the stable code (for branching)
// and core's sentence (for showing); the UI never writes its own text about why something
// was refused.
import { commands, type ErrorBody, type ErrorCode } from "./bindings";

type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export class ApiError extends Error {
  readonly code: ErrorCode;

  constructor(body: ErrorBody) {
    super(body.message);
    this.code = body.code;
  }
}

async function unwrap<T>(call: Promise<Result<T, ErrorBody>>): Promise<T> {
  const result = await call;
  if (result.status === "ok") return result.data;
  // A refusal from Tauri itself (a command the window may not call) is a string, not a body.
  const error = result.error as unknown;
  if (typeof error === "object" && error !== null && "code" in error)
    throw new ApiError(result.error);
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
