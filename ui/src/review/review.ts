// What the access review screens show, in words. Core judges every decision; these only
// name and filter what it answered.
import type {
  Act,
  Decision,
  EntryOutcome,
  Reviewer,
  ReviewEntry,
  ReviewSummary,
  SessionInfo,
} from "../lib/bindings";
import { can } from "../lib/session";

export type DecisionKind = Decision["kind"];

/** Whether the signed-in person may start and decide reviews (core enforces). */
export const mayReview = (s: SessionInfo) => can(s, "users", "update") && can(s, "audit", "read");

/** Whether they may open reviews at all (core enforces). */
export const mayReadReviews = (s: SessionInfo) =>
  can(s, "users", "read") && can(s, "audit", "read");

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export const when = (iso: string | null | undefined) =>
  iso ? dateTime.format(new Date(iso)) : "—";
export const day = (iso: string) => dateOnly.format(new Date(iso));

export const who = (r: Reviewer | null | undefined) => (r ? r.name || r.email : "—");

/** A review in the list: Draft (nothing applied yet), Applied, or Signed. */
export function statusOf(r: ReviewSummary): "Draft" | "Applied" | "Signed" {
  if (r.signed_off) return "Signed";
  return r.applied_at ? "Applied" : "Draft";
}

export function outcomeText(o: EntryOutcome | null): string {
  if (!o) return "";
  switch (o.kind) {
    case "applied":
      return "Applied";
    case "unchanged":
      return "Unchanged";
    case "refused":
      return `Refused: ${o.error.message}`;
    case "no_longer_eligible":
      return "No longer in the directory";
  }
}

/** Which review act a decision needs core's leave for (Keep needs none). */
export const actOf: Record<DecisionKind, Act | null> = {
  keep: null,
  change_roles: "change_roles",
  deactivate: "deactivate",
};

/** Core's sentence for why the reader may not decide `kind` on this entry, or null. */
export function refusal(entry: ReviewEntry, kind: DecisionKind): string | null {
  const act = actOf[kind];
  if (!act) return null;
  return (entry.options ?? []).find((o) => o.act === act)?.refused?.message ?? null;
}

export type Filters = { role: string; dormant: boolean; holdsDelete: boolean };
export const noFilters: Filters = { role: "", dormant: false, holdsDelete: false };

/** Days without a sign-in that count as dormant for the filter. */
export const DORMANT_DAYS = 30;

/** Whether the snapshot of `e` matches the display filters (never sign-in counts as dormant). */
export function matches(e: ReviewEntry, f: Filters): boolean {
  const u = e.user;
  if (f.role && !u.roles.includes(f.role)) return false;
  if (f.dormant && u.days_since_sign_in !== null && u.days_since_sign_in < DORMANT_DAYS)
    return false;
  if (f.holdsDelete && !u.holds_delete) return false;
  return true;
}
