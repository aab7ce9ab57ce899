/**
 * One-time codes that a screen shows once (an invitation's result, an import's report), and
 * which of them the person has kept: copied, one by one or all at once, or saved as CSV. A
 * dialog with codes not yet kept asks before it closes (`CodesKept.svelte`).
 */
import { SvelteSet } from "svelte/reactivity";
import { api } from "./api";
import type { IssuedCode } from "./bindings";
import { toast } from "./toast.svelte";

export class KeptCodes {
  /** The codes copied or saved. */
  readonly kept = new SvelteSet<string>();
  /** Set when the person asked to move on with codes not yet kept: the dialog asks first. */
  asking = $state(false);
  /** What the person asked for, done if they confirm. */
  private then: (() => void) | null = null;

  /** The codes among `codes` not yet kept. */
  unkept(codes: IssuedCode[]): number {
    return codes.filter((c) => !this.kept.has(c.code)).length;
  }

  async copy(code: IssuedCode) {
    await navigator.clipboard.writeText(code.code);
    this.kept.add(code.code);
  }

  /** Every code, one per line beside its email, for pasting into a message or a sheet. */
  async copyAll(codes: IssuedCode[]) {
    await navigator.clipboard.writeText(codes.map((c) => `${c.email}\t${c.code}`).join("\n"));
    for (const c of codes) this.kept.add(c.code);
    toast(codes.length === 1 ? "The code is copied." : `${codes.length} codes are copied.`);
  }

  /** Asks where to save them as CSV (email, code, expiry); kept once written. */
  async saveCsv(codes: IssuedCode[]) {
    const rows = codes.map(({ email, code, expires_at }) => ({ email, code, expires_at }));
    const file = await api.saveCodesCsv(rows);
    if (file === null) return;
    for (const c of codes) this.kept.add(c.code);
    toast(`Saved ${file}: keep it safe, it holds sign-in codes.`);
  }

  /** Runs `then` (closing, or inviting more) at once when every code is kept; else asks. */
  leave(codes: IssuedCode[], then: () => void) {
    if (this.unkept(codes) === 0) {
      this.reset();
      then();
    } else {
      this.then = then;
      this.asking = true;
    }
  }

  /** The person confirmed leaving codes behind. */
  proceed() {
    const then = this.then;
    this.reset();
    then?.();
  }

  reset() {
    this.kept.clear();
    this.asking = false;
    this.then = null;
  }
}
