import { messageOf } from "./api";

/** A form submission: `busy` while it runs, `error` holding core's sentence if it failed. */
export class Submission {
  busy = $state(false);
  error = $state("");

  /** Runs `action` for a submit event; returns whether it succeeded. */
  async run(event: SubmitEvent, action: () => Promise<void>): Promise<boolean> {
    event.preventDefault();
    this.busy = true;
    this.error = "";
    try {
      await action();
      return true;
    } catch (e) {
      this.error = messageOf(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
