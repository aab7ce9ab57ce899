/** Short-lived result messages ("Ana was deactivated."), shown by `Toasts.svelte`. */
export type Toast = { id: number; message: string; kind: "success" | "error" };

let next = 1;

/** Newest first, so the latest result is read first. */
export const toasts: Toast[] = $state([]);

export function dismiss(id: number) {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

/** Shows `message` for a few seconds (errors stay until dismissed). */
export function toast(message: string, kind: Toast["kind"] = "success") {
  const id = next++;
  toasts.unshift({ id, message, kind });
  if (toasts.length > 4) toasts.pop();
  if (kind === "success") setTimeout(() => dismiss(id), 6000);
}
