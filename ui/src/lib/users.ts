import type { UserStatus } from "./bindings";

/**
 * The Users list's filters (its query state beside the search and the sort), so that another
 * screen can open the list filtered: Settings shows who a second-factor requirement reaches.
 */
export type UsersFilter = {
  status: UserStatus | null;
  role: string;
  noSecondFactor: boolean;
  /** Active users the dormant-account rule deactivates soon (core's judgement). */
  dormantSoon: boolean;
  /** Users whose access ends within 30 days (core's window). */
  endingSoon: boolean;
  /** A calendar date (`YYYY-MM-DD`): only users with no sign-in since its start. */
  noSignInSince: string;
};

export const noFilter: UsersFilter = {
  status: null,
  role: "",
  noSecondFactor: false,
  dormantSoon: false,
  endingSoon: false,
  noSignInSince: "",
};
