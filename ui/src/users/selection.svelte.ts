import { tick } from "svelte";
import { SvelteSet } from "svelte/reactivity";
import { Task } from "../lib/task.svelte";

/**
 * Where the focus goes once the bulk bar has gone (cleared, or its action done) and the focus
 * went with it: to the list's header box, where selecting starts again.
 */
export async function focusAfterBar() {
  await tick();
  // Lost: on nothing, or still on a control of a dialog that has just closed (hidden now).
  const active = document.activeElement;
  const lost = !(active instanceof HTMLElement) || active === document.body || !active.isConnected;
  if (lost || active.getClientRects().length === 0) {
    document.querySelector<HTMLElement>("[data-testid='select-shown']")?.focus();
  }
}

/** Where the selection reads the list: the query state (query.svelte.ts). */
export interface Rows {
  /** The id of the row at `index`, once loaded. */
  idAt(index: number): string | undefined;
  /** The ids of the rows `from` to `to` (inclusive), in the list's order. */
  between(from: number, to: number): Promise<string[]>;
  /** The ids of every user the query matches (core refuses beyond a bulk action's limit). */
  matching(): Promise<string[]>;
}

/**
 * The users of the list selected for one action on all of them, by id. A click on a row's
 * box (or Ctrl/Cmd-click on the row, or Space on it) toggles that row and makes it the anchor;
 * Shift-click (or Shift+Space) selects every row from the anchor to it. Which rows lie between
 * is the list's to say (`between`): rows far off screen are not loaded. The selection holds
 * ids only: what may be done to each selected user is core's to decide, when it is asked.
 */
export class Selection {
  readonly ids = new SvelteSet<string>();
  /** The row a range starts from: the last one toggled, by id and index in the list. */
  #anchor: { id: string; index: number } | null = null;
  readonly #rows: Rows;
  /** Fetching ids of rows not loaded (a range, "Select all N matching"); core's refusal. */
  readonly fetching = new Task();

  constructor(rows: Rows) {
    this.#rows = rows;
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Selects or unselects the user `id` at `index`, which becomes the anchor. */
  toggle(id: string, index: number) {
    if (this.ids.has(id)) this.ids.delete(id);
    else this.ids.add(id);
    this.#anchor = { id, index };
  }

  /**
   * Toggles the user `id` at `index`, or (`range`) selects the rows from the anchor to it,
   * both included (just that row when there is no anchor yet). The anchor stays after a
   * range, so that a second Shift-click redraws from it.
   */
  select(id: string, index: number, range: boolean) {
    this.fetching.error = "";
    const anchor = this.#anchor;
    if (!range || anchor === null) return this.toggle(id, index);
    const span = (at: number) => [Math.min(at, index), Math.max(at, index)] as const;
    void this.fetching.run(async () => {
      if (this.#rows.idAt(anchor.index) === anchor.id) {
        this.add(await this.#rows.between(...span(anchor.index)));
        return;
      }
      // The anchor moved since (a sort, a change to someone): where core lists it now.
      const all = await this.#rows.matching();
      const at = all.indexOf(anchor.id);
      if (at < 0) return this.toggle(id, index); // it left the list
      this.#anchor = { id: anchor.id, index: at };
      const [from, to] = span(at);
      this.add(all.slice(from, to + 1));
    });
  }

  /** Space (or Shift+Space) on a control of a selectable row: that row. */
  selectFocused(range: boolean) {
    const row = document.activeElement?.closest<HTMLElement>("tr[data-selectable]");
    const index = Number(row?.dataset.index);
    const id = this.#rows.idAt(index);
    if (id !== undefined) this.select(id, index, range);
  }

  /** Selects the rows `ids` (those shown), or unselects them when all of them are selected. */
  toggleAll(ids: string[]) {
    if (ids.every((id) => this.ids.has(id))) for (const id of ids) this.ids.delete(id);
    else this.add(ids);
  }

  /**
   * "Select all N matching": every user the query matches, in the list's order (those
   * selected already are among them: a change of query clears the selection).
   */
  async selectMatching() {
    const ids = await this.fetching.run(() => this.#rows.matching());
    if (!ids) return;
    this.ids.clear();
    this.add(ids);
  }

  add(ids: Iterable<string>) {
    for (const id of ids) this.ids.add(id);
  }

  clear() {
    this.ids.clear();
    this.#anchor = null;
    this.fetching.error = "";
  }

  /** Clear or Escape: cleared, with the focus kept in the list when the bar took it along. */
  dismiss() {
    this.clear();
    void focusAfterBar();
  }

  /** The selected ids, those of `last` at the end (core does the signed-in person last too). */
  list(last: string): string[] {
    const ids = [...this.ids].filter((id) => id !== last);
    return this.ids.has(last) ? [...ids, last] : ids;
  }
}
