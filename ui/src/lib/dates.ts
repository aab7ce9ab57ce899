// Dates as the person reads them. Core sends instants (RFC 3339) and calendar dates
// (`YYYY-MM-DD`, no time zone): a calendar date is shown as that day, never shifted.

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** A calendar date (`2027-01-31`) as "31 Jan 2027" in the person's locale. */
export function calendarDay(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  return dayFormat.format(new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1));
}

/** Core's whole days since a sign-in as a phrase: "today", "1 day ago", "12 days ago", "never". */
export function daysAgo(days: number | null): string {
  if (days === null) return "never";
  if (days === 0) return "today";
  return days === 1 ? "1 day ago" : `${days} days ago`;
}

/** Today on this computer, as a calendar date (`YYYY-MM-DD`). */
export function today(): string {
  return localDate(new Date());
}

/** The calendar date `days` from today, as `YYYY-MM-DD`. */
export function daysFromToday(days: number): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return localDate(d);
}

function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The start of a calendar date on this computer's clock, as an instant for core. */
export function startOfDay(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1).toISOString();
}
