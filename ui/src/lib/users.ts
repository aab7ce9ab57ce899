import type { UserStatus } from "./bindings";

/**
 * The Users list's filters (its query state beside the search and the sort), so that another
 * screen can open the list filtered: Settings shows who a second-factor requirement reaches.
 */
export type UsersFilter = {
  status: UserStatus | null;
  role: string;
  noSecondFactor: boolean;
};

export const noFilter: UsersFilter = { status: null, role: "", noSecondFactor: false };
