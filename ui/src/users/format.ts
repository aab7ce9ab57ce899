// How the Users list writes numbers, dates and people: one place, so the list, its header and
// its toolbar agree (thousands separators, short dates) in the person's locale.

/** The person's locale, unless it groups no digits (the C/POSIX locale of a bare system):
 * the app's words are English, so English grouping then ("100,001", not "100001"). */
const numberFormat = ((system) =>
  system.format(1000) === "1000" ? new Intl.NumberFormat("en-US") : system)(
  new Intl.NumberFormat(),
);
const thisYear = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const otherYear = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A count with the locale's thousands separators: "100,001". */
export function count(n: number): string {
  return numberFormat.format(n);
}

/** The rows in view (`first` to `last`, exclusive) of `total`: "1–50 of 100,001". */
export function rangeLabel(first: number, last: number, total: number): string {
  if (total === 0 || last <= first) return `0 of ${count(total)}`;
  return `${count(first + 1)}–${count(Math.min(last, total))} of ${count(total)}`;
}

/** An instant as a short day: "Today", "Dec 1" this year, "Dec 1, 2025" before. */
export function shortDay(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (d.toDateString() === now.toDateString()) return "Today";
  return (d.getFullYear() === now.getFullYear() ? thisYear : otherYear).format(d);
}

/** An instant in full, for a tooltip: "Dec 1, 2026, 10:03 AM". */
export function fullDate(iso: string): string {
  return full.format(new Date(iso));
}

/** The invitation part of an Invited status: "expires Dec 6" or "expired". */
export function invitationState(invitation: { expires_at: string; expired: boolean }): string {
  return invitation.expired ? "expired" : `expires ${shortDay(invitation.expires_at)}`;
}

/** Up to two initials of a name ("Ada Lovelace 12" → "AL"), or of an email's name part. */
export function initials(name: string, email: string): string {
  const words = name.trim()
    ? name.trim().split(/\s+/)
    : (email.split("@")[0] ?? "").split(/[._+-]+/);
  const letters = words.filter((w) => /^\p{L}/u.test(w)).map((w) => Array.from(w)[0] ?? "");
  const picked = letters.length > 1 ? [letters[0], letters[letters.length - 1]] : letters;
  return (picked.join("") || Array.from(email)[0] || "?").toUpperCase();
}

/** A hue (0–359) from a text (a user's id): the same person keeps their colour. */
export function hueOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  return hash % 360;
}
