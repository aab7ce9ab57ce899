import { api } from "../lib/api";
import type { UserQuery, UserSort, UserStatus, UserView } from "../lib/bindings";
import { startOfDay } from "../lib/dates";
import { Task } from "../lib/task.svelte";
import type { UsersFilter } from "../lib/users";

const PAGE = 100;
/** Pages kept on either side of the ones in view. */
const KEEP = 2;

/** How many users each status tab holds under the other filters. */
export type Counts = { all: number; active: number; invited: number; inactive: number };

/**
 * The Users list's query state: its filters, search and sort, and the pages core answered for
 * them. Core pages the list; the pages the rows in view touch are fetched, and pages far from
 * them let go, so 100,000 users keep a few hundred in memory. A change of query starts a new
 * generation; answers for an older one are dropped.
 */
export class UsersQuery {
  status: UserStatus | null = $state(null);
  role = $state("");
  /** Only users without a second factor. */
  noSecondFactor = $state(false);
  dormantSoon = $state(false);
  endingSoon = $state(false);
  /** A calendar date: only users with no sign-in since it began. */
  noSignInSince = $state("");
  search = $state("");
  sort: UserSort = $state("name");
  descending = $state(false);

  total = $state(0);
  counts: Counts = $state({ all: 0, active: 0, invited: 0, inactive: 0 });
  /** Until core's first answer. */
  loading = $state(true);
  /** A page's fetch, and core's sentence when it failed. */
  readonly pages = new Task();

  #cache = new Map<number, UserView>();
  #requested = new Set<number>();
  #generation = 0;
  /** The cache holds an older generation's rows until the new one's first answer. */
  #stale = false;
  /** Bumped when the cache changes: rows read it, so that they show what arrived. */
  #version = $state(0);
  #first = 0;
  #last = 0;

  constructor(filter: UsersFilter) {
    this.status = filter.status;
    this.role = filter.role;
    this.noSecondFactor = filter.noSecondFactor;
    this.dormantSoon = filter.dormantSoon;
    this.endingSoon = filter.endingSoon;
    this.noSignInSince = filter.noSignInSince;
  }

  /** The user at `index` (0-based in the whole list), once their page has arrived. */
  row(index: number): UserView | undefined {
    void this.#version;
    return this.#cache.get(index);
  }

  /** The id of the user at `index`, once their page has arrived. */
  idAt(index: number): string | undefined {
    return this.#cache.get(index)?.id;
  }

  /** The names (or emails) of at most `most` of the users `ids` whose rows have arrived. */
  namesOf(ids: ReadonlySet<string>, most: number): string[] {
    const names: string[] = [];
    for (const user of this.#cache.values()) {
      if (names.length === most) break;
      if (ids.has(user.id)) names.push(user.name || user.email);
    }
    return names;
  }

  /** The ids of the rows `first` to `last` (exclusive) that have arrived. */
  loadedIds(first: number, last: number): string[] {
    const ids: string[] = [];
    for (let i = first; i < last; i++) {
      const id = this.row(i)?.id;
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }

  /**
   * The ids of every user the query matches, in the list's order ("Select all N matching");
   * throws core's refusal (`too_many_users` beyond what one bulk action may name).
   */
  matching(): Promise<string[]> {
    return api.matchingUsers({ ...this.#query(0), offset: null, limit: null });
  }

  /** The ids of the rows `from` to `to` (inclusive): from the pages here, or asked of core. */
  async between(from: number, to: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = from; i <= to; i++) {
      const id = this.idAt(i);
      if (id === undefined) return (await this.matching()).slice(from, to + 1);
      ids.push(id);
    }
    return ids;
  }

  /** Whether a filter or the search narrows the list. */
  get narrowed(): boolean {
    return Boolean(
      this.search ||
      this.role ||
      this.status ||
      this.noSecondFactor ||
      this.dormantSoon ||
      this.endingSoon ||
      this.noSignInSince,
    );
  }

  /** The rows in view changed (`last` exclusive): fetches what they need, lets go of the rest. */
  show(first: number, last: number) {
    this.#first = first;
    this.#last = last;
    const from = Math.floor(first / PAGE);
    const to = Math.floor(Math.max(first, last - 1) / PAGE);
    for (const p of this.#requested) {
      if (p >= from - KEEP && p <= to + KEEP) continue;
      this.#requested.delete(p);
      for (let i = p * PAGE; i < (p + 1) * PAGE; i++) this.#cache.delete(i);
    }
    for (let p = from; p <= to; p++) if (!this.#requested.has(p)) void this.#fetch(p);
  }

  /**
   * Asks core again: from the top after a change of query (the caller scrolls there), or in
   * place after a change to a user. The rows shown stay until the new answer replaces them.
   */
  reload(fromTop: boolean) {
    this.#generation++;
    this.#requested = new Set();
    this.#stale = true;
    if (fromTop) [this.#first, this.#last] = [0, this.#last - this.#first];
    this.show(this.#first, this.#last);
  }

  /** Sorts by `column`, the other way round when it is already the sort. */
  sortBy(column: UserSort) {
    this.descending = this.sort === column ? !this.descending : false;
    this.sort = column;
    this.reload(true);
  }

  #query(page: number): UserQuery {
    return {
      status: this.status,
      role: this.role || null,
      search: this.search.trim() || null,
      sort: this.sort,
      descending: this.descending,
      offset: page * PAGE,
      limit: PAGE,
      no_second_factor: this.noSecondFactor || null,
      dormant_soon: this.dormantSoon || null,
      ending_soon: this.endingSoon || null,
      no_sign_in_since: this.noSignInSince ? startOfDay(this.noSignInSince) : null,
    };
  }

  async #fetch(page: number) {
    this.#requested.add(page);
    const gen = this.#generation;
    const current = () => gen === this.#generation;
    // A failure of an older generation's fetch is nobody's concern any more.
    const result = await this.pages.run(
      () => api.queryUsers(this.#query(page)),
      () => !current(),
    );
    if (!current()) return;
    this.loading = false;
    if (!result) {
      this.#requested.delete(page);
      return;
    }
    if (!this.#requested.has(page)) return;
    if (this.#stale) {
      this.#cache.clear();
      this.#stale = false;
    }
    result.users.forEach((u, i) => this.#cache.set(page * PAGE + i, u));
    this.total = result.total;
    this.counts = {
      all: result.active + result.inactive + result.invited,
      active: result.active,
      invited: result.invited,
      inactive: result.inactive,
    };
    this.#version++;
  }
}
