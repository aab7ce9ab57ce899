import { messageOf } from "./api";

/**
 * One call to core at a time, as a screen shows it: `busy` while it runs, `error` holding
 * core's sentence when it failed. A session that ended is answered by `api` for every call
 * (back to sign-in); a task only shows what went wrong here.
 */
export class Task {
  busy = $state(false);
  error = $state("");
  readonly #report: ((message: string) => void) | undefined;

  /** `report`: where the sentence goes instead of `error` (a toast, for a row's action). */
  constructor(report?: (message: string) => void) {
    this.#report = report;
  }

  /**
   * Runs `call`; resolves with its value, or `undefined` when it failed. `expected` may take
   * a refusal the caller shows its own way (returning true), so that it is not `error`.
   */
  async run<T>(call: () => Promise<T>, expected?: (e: unknown) => boolean): Promise<T | undefined> {
    this.busy = true;
    this.error = "";
    try {
      return await call();
    } catch (e) {
      if (!expected?.(e)) {
        if (this.#report) this.#report(messageOf(e));
        else this.error = messageOf(e);
      }
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** Runs `call` for a form's submit event; whether it succeeded. */
  async submit(event: SubmitEvent, call: () => Promise<unknown>): Promise<boolean> {
    event.preventDefault();
    let ok = false;
    await this.run(async () => {
      await call();
      ok = true;
    });
    return ok;
  }
}
