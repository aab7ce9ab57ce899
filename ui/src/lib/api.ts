// The one place that calls the generated bindings. Every refusal becomes an ApiError carrying
// the stable code (for branching) and core's sentence (for showing); the UI never writes its
// own text about why something was refused.
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
  throw new ApiError(result.error);
}

/** A sentence for any thrown value: core's own for refusals, a generic one otherwise. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return "Something went wrong. Please try again.";
}

export const api = {
  appStatus: () => unwrap(commands.appStatus()),
  setup: (input: Parameters<typeof commands.setup>[0]) => unwrap(commands.setup(input)),
  signIn: (email: string, password: string) => unwrap(commands.signIn(email, password)),
  signOut: () => unwrap(commands.signOut()),
  currentSession: () => unwrap(commands.currentSession()),
  listUsers: () => unwrap(commands.listUsers()),
  listRoles: () => unwrap(commands.listRoles()),
};
