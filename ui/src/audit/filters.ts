import type { AuditAction, AuditCount, AuditQuery } from "../lib/bindings";
import { daysFromToday, startOfDay, today } from "../lib/dates";

/** The audit log's filters as the person set them: dates are calendar days (`YYYY-MM-DD`). */
export type AuditFilter = {
  action: AuditAction | "";
  /** The acting user's email (or id), as chosen or typed. */
  actor: string;
  target: string;
  from: string;
  to: string;
};

export const NO_FILTER: AuditFilter = { action: "", actor: "", target: "", from: "", to: "" };

/** The periods offered beside From and To: each ends today and starts `days - 1` before. */
export const PERIODS = [
  { key: "today", label: "Today", days: 1 },
  { key: "7", label: "Last 7 days", days: 7 },
  { key: "30", label: "Last 30 days", days: 30 },
] as const;

export type PeriodKey = (typeof PERIODS)[number]["key"];

/** The dates a period sets. */
export function periodDates(key: PeriodKey): { from: string; to: string } {
  const days = PERIODS.find((p) => p.key === key)?.days ?? 1;
  return { from: daysFromToday(1 - days), to: today() };
}

/** Which period `from` and `to` are: "" for no dates, "custom" for any others. */
export function periodOf(from: string, to: string): PeriodKey | "" | "custom" {
  if (!from && !to) return "";
  const match = PERIODS.find((p) => {
    const dates = periodDates(p.key);
    return dates.from === from && dates.to === to;
  });
  return match?.key ?? "custom";
}

/** Whether From falls after To (both set): such a filter is not searched. */
export const datesReversed = (f: { from: string; to: string }) =>
  f.from !== "" && f.to !== "" && f.from > f.to;

/**
 * The query for core: dates are local days, from the start of `from` to the end of `to`
 * (core's `to` is exclusive: the start of the day after).
 */
export function toQuery(f: AuditFilter, before: number | null, limit = 100): AuditQuery {
  const dayAfter = (d: string) => {
    const [y, m, day] = d.split("-").map(Number);
    return startOfDay(localDate(new Date(y ?? 1970, (m ?? 1) - 1, (day ?? 1) + 1)));
  };
  return {
    actor: f.actor.trim() || null,
    target: f.target.trim() || null,
    action: f.action || null,
    from: f.from ? startOfDay(f.from) : null,
    to: f.to ? dayAfter(f.to) : null,
    before,
    limit,
  };
}

function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const number = new Intl.NumberFormat();

/** "1 event", "1,234 events", "1,000+ events". */
export function countText(count: AuditCount): string {
  const n = `${number.format(count.events)}${count.at_least ? "+" : ""}`;
  return count.events === 1 && !count.at_least ? "1 event" : `${n} events`;
}
