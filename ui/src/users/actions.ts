// The acts on one person that the row menu and the detail panel offer: which command each one
// is, what it asks first, and the sentence its success is told with. Core judges every one.
import { api } from "../lib/api";
import type { IssuedCode, UserView } from "../lib/bindings";
import { calendarDay } from "../lib/dates";
import type { UserAction } from "../lib/session";

/** What the person gave in the dialog before confirming (each act reads what it needs). */
export type ActInput = {
  /** Why they are deactivated (optional, kept in the audit log). */
  reason: string;
  roles: string[];
  /** The approval reference a role change may need. */
  approval: string;
  /** A calendar date, or "" to remove the end date. */
  endDate: string;
};

/** What core answered: a code to show once, or the person as they are now. */
export type ActResult = { issued: IssuedCode | null; updated: UserView | null };

/** The acts that ask before they run, with their confirming button, named for whom it acts on. */
export const confirming: Partial<Record<UserAction, (user: UserView) => string>> = {
  deactivate: (u) => `Deactivate ${who(u)}`,
  cancel: (u) => `Cancel ${who(u)}’s invitation`,
  roles: (u) => `Save ${who(u)}’s roles`,
  second_factor: (u) => `Remove ${who(u)}’s second factor`,
  end_date: () => "Set end date",
};

/** The acts that take something away: their confirming button is red. */
export const destructive: ReadonlySet<UserAction> = new Set([
  "deactivate",
  "cancel",
  "second_factor",
]);

/** Each act's dialog title. */
export const titles: Record<UserAction, string> = {
  resend: "Invitation sent again",
  reset: "Password reset code",
  cancel: "Cancel invitation",
  deactivate: "Deactivate user",
  reactivate: "Reactivate user",
  unlock: "Unlock sign-in",
  roles: "Change roles",
  second_factor: "Remove second factor",
  end_date: "End date of access",
};

export const who = (u: UserView) => u.name || u.email;

/** Runs `action` on `user` in core; throws core's refusal. */
export async function perform(
  action: UserAction,
  user: UserView,
  input: ActInput,
): Promise<ActResult> {
  const issued = (code: IssuedCode) => ({ issued: code, updated: null });
  const updated = (u: UserView | null) => ({ issued: null, updated: u });
  switch (action) {
    case "resend":
      return issued(await api.resendInvitation(user.id));
    case "reset":
      return issued(await api.issuePasswordReset(user.id));
    case "cancel":
      await api.cancelInvitation(user.id);
      return updated(null);
    case "deactivate":
      return updated(await api.deactivateUser(user.id, input.reason.trim() || null));
    case "reactivate":
      return updated(await api.reactivateUser(user.id));
    case "unlock":
      return updated(await api.unlockUser(user.id));
    case "roles":
      return updated(await api.changeRoles(user.id, input.roles, input.approval.trim() || null));
    case "second_factor":
      return updated(await api.removeSecondFactor(user.id));
    case "end_date":
      return updated(await api.setAccessUntil(user.id, input.endDate || null));
  }
}

/** The sentence a success is told with (acts that issue a code show the code instead). */
export function doneMessage(action: UserAction, user: UserView, input: ActInput): string {
  const name = who(user);
  switch (action) {
    case "cancel":
      return `The invitation for ${user.email} was cancelled.`;
    case "deactivate":
      return `${name} was deactivated.`;
    case "reactivate":
      return `${name} is active again.`;
    case "unlock":
      return `${name} can sign in again.`;
    case "roles":
      return `${name}'s roles were changed.`;
    case "second_factor":
      return `${name}'s second factor was removed.`;
    case "end_date":
      return input.endDate
        ? `${name}'s access ends on ${calendarDay(input.endDate)}.`
        : `${name}'s end date was removed.`;
    default:
      return "";
  }
}
