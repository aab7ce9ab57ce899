// One action on every selected user: what each one is called, what its confirmation says,
// and the calls to core that do it. Core decides each user under the ordinary rules and
// reports each one's outcome; the UI only asks and shows the answers.
import { api, messageOf } from "../lib/api";
import type { Action, BulkAction, BulkOutcome } from "../lib/bindings";
import { count } from "./format";

export type BulkKind = "deactivate" | "reactivate" | "roles" | "resend" | "cancel";

/** The bulk bar's actions in order: label, and the `users` permission its button needs. */
export const bulkActions: [BulkKind, string, Action][] = [
  ["deactivate", "Deactivate", "update"],
  ["reactivate", "Reactivate", "update"],
  ["roles", "Change roles", "update"],
  ["resend", "Resend invitation", "create"],
  ["cancel", "Cancel invitation", "create"],
];

/** The actions that take something away: their confirming button is red. */
export const bulkDestructive: ReadonlySet<BulkKind> = new Set(["deactivate", "cancel"]);

const users = (n: number) => `${count(n)} ${n === 1 ? "user" : "users"}`;
const invitations = (n: number) => `${count(n)} ${n === 1 ? "invitation" : "invitations"}`;

/** The confirming button (and the dialog's title), named for what it acts on. */
export function confirmLabel(kind: BulkKind, n: number): string {
  switch (kind) {
    case "deactivate":
      return `Deactivate ${users(n)}`;
    case "reactivate":
      return `Reactivate ${users(n)}`;
    case "roles":
      return `Change the roles of ${users(n)}`;
    case "resend":
      return `Resend ${invitations(n)}`;
    case "cancel":
      return `Cancel ${invitations(n)}`;
  }
}

/** What the action does to each of the `n` selected, said before it is confirmed. */
export function consequence(kind: BulkKind, n: number): string {
  const each = n === 1 ? "The selected user" : `Each of the ${users(n)} selected`;
  switch (kind) {
    case "deactivate":
      return `${each} is signed out and can no longer sign in. Their history, roles and audit trail are kept; you can reactivate them later.`;
    case "reactivate":
      return `${each} can sign in again with the roles they had.`;
    case "roles":
      return `${each} gets exactly the roles chosen here, replacing the ones they have.`;
    case "resend":
      return `${each} who is invited gets a new code (the old one stops working), shown here once.`;
    case "cancel":
      return `${each} who is invited has their code stop working and leaves the list. The invitations stay in the audit log.`;
  }
}

/** Who is selected, as the confirmation names them: "Ben, Dan and 2 others". */
export function namedList(names: string[], n: number): string {
  const others = n - names.length;
  const parts = [...names]; // a copy: `pop` below must not change the caller's list
  if (others > 0) parts.push(`${count(others)} ${others === 1 ? "other" : "others"}`);
  const last = parts.pop() ?? "";
  return parts.length > 0 ? `${parts.join(", ")} and ${last}` : last;
}

/** What a user's line in the report says when the action was done. */
export const doneLabel: Record<BulkKind, string> = {
  deactivate: "Deactivated",
  reactivate: "Active again",
  roles: "Roles changed",
  resend: "Invitation sent again",
  cancel: "Invitation cancelled",
};

/** What the person gave in the confirmation (each action reads what it needs). */
export type BulkInput = { reason: string; roles: string[]; approval: string };

/** The request core takes for `kind` with `input`. */
export function request(kind: BulkKind, input: BulkInput): BulkAction {
  switch (kind) {
    case "deactivate":
      return { action: "deactivate", reason: input.reason.trim() || null };
    case "reactivate":
      return { action: "reactivate" };
    case "roles":
      return {
        action: "change_roles",
        roles: input.roles,
        approval: input.approval.trim() || null,
      };
    case "resend":
      return { action: "resend_invitation" };
    case "cancel":
      return { action: "cancel_invitation" };
  }
}

/** Users named in each call to core: few enough that the progress moves as it works. */
const BATCH = 25;

/** Every user's outcome, and core's sentence when it stopped before the end. */
export type BulkRun = { outcomes: BulkOutcome[]; stopped: string };

/**
 * Does `action` to `ids` in order, a batch at a time, telling `progress` how many are
 * decided. A refusal of a whole batch (the session ended, the permission is missing, a role
 * unknown) stops there: the outcomes so far are kept, with core's sentence.
 */
export async function runBulk(
  action: BulkAction,
  ids: string[],
  progress: (decided: number) => void,
): Promise<BulkRun> {
  const outcomes: BulkOutcome[] = [];
  for (let at = 0; at < ids.length; at += BATCH) {
    try {
      outcomes.push(...(await api.bulkUsers(action, ids.slice(at, at + BATCH))));
    } catch (e) {
      return { outcomes, stopped: messageOf(e) };
    }
    progress(outcomes.length);
  }
  return { outcomes, stopped: "" };
}

/** Who an outcome is about, as the report names them. */
export function whoOf(outcome: BulkOutcome): string {
  return outcome.name || outcome.email || "A user no longer in the list";
}
