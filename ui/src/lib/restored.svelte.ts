/**
 * What the last restore said, for the sign-in screen that follows it (a restore ends every
 * session): "Restored", what came back, and where the data it replaced was kept aside, with a
 * button that shows that folder instead of a raw path.
 */
import type { Restored } from "./bindings";

export const lastRestore: { restored: Restored | null } = $state({ restored: null });

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const numbers = new Intl.NumberFormat();

/** The sentence the sign-in screen shows after `restored`. */
export function restoredNotice(restored: Restored): string {
  lastRestore.restored = restored;
  const users = restored.info.users;
  const what = `the backup of ${dateFormat.format(new Date(restored.info.created_at))} (${numbers.format(users)} ${users === 1 ? "user" : "users"})`;
  const kept = restored.kept ? " The data it replaced is kept aside in the data folder." : "";
  return `Restored ${what}.${kept} Sign in to continue.`;
}
