import { tick } from "svelte";
import { ApiError, messageOf } from "./api";
import type { ErrorCode, Field } from "./bindings";
import { Task } from "./task.svelte";

/**
 * Which of a form's fields each refusal is about: by core's code (`wrong_password` is the
 * current password), or, for a code several fields share (`invalid_setting`), by the field
 * core names in the refusal. Unmapped refusals stay the form's own `error`.
 */
export type FieldMap<F extends string> = Partial<Record<ErrorCode | Field, F>>;

let forms = 0;

/**
 * A form's call to core whose refusal shows under the field that caused it: `errorOf(f)` is
 * core's sentence for field `f`, the field is focused, and the sentence goes when the field
 * changes. A refusal no field owns is `error`, as for any task.
 */
export class Form<F extends string> extends Task {
  /** The field the last refusal is about, while it stands. */
  field = $state<F | null>(null);
  fieldError = $state("");
  readonly #fields: FieldMap<F>;
  readonly #prefix = `form-${++forms}`;

  constructor(fields: FieldMap<F>) {
    super();
    this.#fields = fields;
  }

  /** The id of field `f`'s control, for its label. */
  id(f: F): string {
    return `${this.#prefix}-${f}`;
  }

  /** Core's sentence when the last refusal is about `f`. */
  errorOf(f: F): string {
    return this.field === f ? this.fieldError : "";
  }

  /** Field `f` changed: its sentence no longer stands. */
  clear(f: F) {
    if (this.field === f) this.field = null;
  }

  override async run<T>(
    call: () => Promise<T>,
    expected?: (e: unknown) => boolean,
  ): Promise<T | undefined> {
    this.field = null;
    let refused: F | null = null;
    const result = await super.run(call, (e) => {
      refused = this.#fieldOf(e);
      if (refused === null) return expected?.(e) ?? false;
      this.fieldError = messageOf(e);
      return true;
    });
    if (refused !== null) {
      this.field = refused;
      await tick();
      document.getElementById(this.id(refused))?.focus();
    }
    return result;
  }

  #fieldOf(e: unknown): F | null {
    if (!(e instanceof ApiError)) return null;
    return (e.field && this.#fields[e.field]) || this.#fields[e.code] || null;
  }
}
