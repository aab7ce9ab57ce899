/**
 * Short-lived result messages ("Ana was deactivated."), shown by `Toasts.svelte`: at most two at
 * once, the newest first, the same words never twice; a success closes by itself after five
 * seconds, an error stays until closed. The app clears them all when the screen changes, at
 * sign-out and after a restore, so none follows the user to where it no longer applies.
 */
export type Toast = { id: number; message: string; kind: "success" | "error" };

/** How many are shown at once: a third pushes out the oldest. */
export const MOST = 2;
/** How long a success stays, in milliseconds. */
export const SUCCESS_MS = 5000;

let next = 1;

/** Newest first, so the latest result is read first. */
export const toasts: Toast[] = $state([]);

export function dismiss(id: number) {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

/** Closes every notification. */
export function clearToasts() {
  toasts.splice(0, toasts.length);
}

/** Shows `message` (a success closes by itself; an error stays until closed). */
export function toast(message: string, kind: Toast["kind"] = "success") {
  const id = next++;
  // The same words again (a form saved twice) replace the earlier notice rather than stack.
  const same = toasts.findIndex((t) => t.message === message && t.kind === kind);
  if (same >= 0) toasts.splice(same, 1);
  toasts.unshift({ id, message, kind });
  if (toasts.length > MOST) toasts.splice(MOST);
  if (kind === "success") setTimeout(() => dismiss(id), SUCCESS_MS);
}
