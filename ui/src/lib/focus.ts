// Keeping keyboard focus where a person expects it.

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), ' +
  'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The elements inside `within` that Tab reaches, in order (visible ones only). */
export function focusable(within: HTMLElement): HTMLElement[] {
  return [...within.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (e) => e.getClientRects().length > 0 && !e.closest("[inert]"),
  );
}

/**
 * Keeps Tab and Shift+Tab inside `within` (a modal): from the last element Tab goes to the
 * first, from the first Shift+Tab to the last, so focus never leaves for the page behind or
 * the window's menu.
 */
export function trapTab(event: KeyboardEvent, within: HTMLElement) {
  // WebKitGTK may name Shift+Tab (GDK's ISO_Left_Tab) "Unidentified"; its code is still 9.
  const tab = event.key === "Tab" || event.code === "Tab" || event.keyCode === 9;
  if (!tab || event.ctrlKey || event.metaKey || event.altKey) return;
  const items = focusable(within);
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) return event.preventDefault();
  const active = document.activeElement;
  const outside = !(active instanceof Node) || !within.contains(active);
  if (event.shiftKey && (active === first || outside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || outside)) {
    event.preventDefault();
    first.focus();
  }
}
