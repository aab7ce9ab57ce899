// The keyboard shortcuts, said once: the key handler (components/Shortcuts.svelte), the help
// overlay that lists them and the app menu's events all read this table. What a shortcut does
// is provided by the screen that can do it now (`provide`), so that a shortcut does nothing
// where its screen is not shown or the person may not do it: the screen decides, as it
// decides whether its button shows.

/** What a shortcut does. `section-N` opens the Nth section of the sidebar (from 1). */
export type ShortcutAction =
  | "help"
  | "search"
  | "invite"
  | "select-row"
  | "select-range"
  | "select-clear"
  | `section-${number}`;

export interface Shortcut {
  action: ShortcutAction;
  /** The keys as the help overlay shows them, one way of pressing them per entry. */
  keys: string[][];
  label: string;
  /** Whether this key event is (one of) the shortcut's keys. */
  matches: (event: KeyboardEvent) => boolean;
}

/** macOS takes Cmd where Linux and Windows take Ctrl. */
export const onMac = /Mac|iPhone|iPad/.test(
  typeof navigator === "undefined" ? "" : navigator.platform || navigator.userAgent,
);
const MOD = onMac ? "⌘" : "Ctrl";

/** Cmd (macOS) or Ctrl (elsewhere) alone, with `key` (a letter or a digit). */
function withMod(event: KeyboardEvent, key: string): boolean {
  const mod = onMac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  if (!mod || event.altKey || event.shiftKey) return false;
  return event.key.toLowerCase() === key || event.code === `Digit${key}`;
}

/** A key typed alone (shifted or not, as the layout makes it), outside any field. */
function typed(event: KeyboardEvent, key: string): boolean {
  return event.key === key && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event);
}

/** Whether the key goes into a field: there `/` and `?` are text, not shortcuts. */
function typing(event: KeyboardEvent): boolean {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLSelectElement) return true;
  const buttons = ["button", "checkbox", "radio", "submit", "reset"];
  return target instanceof HTMLInputElement && !buttons.includes(target.type);
}

/**
 * Space (with Shift when `shift`) pressed on a control of a list row that can be selected
 * (`data-selectable`), other than its open menu's items: the row's selection key, where
 * Space would otherwise press the focused button.
 */
function onSelectableRow(event: KeyboardEvent, shift: boolean): boolean {
  const target = event.target;
  if (event.key !== " " || event.shiftKey !== shift) return false;
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return false;
  if (!(target instanceof HTMLElement) || target.closest("[role='menu']")) return false;
  return target.closest("tr[data-selectable]") !== null;
}

/** A section of the sidebar, in its order, that the signed-in person may open. */
export interface Section {
  label: string;
  open: () => void;
}

type Handler = () => void;

class Shortcuts {
  /** What each action does now, as the screens on show provided it. */
  handlers: Partial<Record<ShortcutAction, Handler>> = $state({});
  /** The sidebar's sections, as the layout shows them. */
  sections: Section[] = $state([]);

  /** The table: the fixed shortcuts, then one per section (Cmd/Ctrl+1…9). */
  get table(): Shortcut[] {
    const fixed: Shortcut[] = [
      {
        action: "search",
        keys: [[MOD, "F"], ["/"]],
        label: "Search this screen",
        matches: (e) => withMod(e, "f") || typed(e, "/"),
      },
      {
        action: "invite",
        keys: [[MOD, "N"]],
        label: "Invite users",
        matches: (e) => withMod(e, "n"),
      },
      {
        action: "select-row",
        keys: [["Space"]],
        label: "Select or unselect the row",
        matches: (e) => onSelectableRow(e, false),
      },
      {
        action: "select-range",
        keys: [["Shift", "Space"]],
        label: "Select the rows up to this one",
        matches: (e) => onSelectableRow(e, true),
      },
      {
        action: "select-clear",
        keys: [["Esc"]],
        label: "Clear the selection",
        matches: (e) => e.key === "Escape" && !typing(e),
      },
      {
        action: "help",
        keys: [["?"]],
        label: "Show keyboard shortcuts",
        matches: (e) => typed(e, "?"),
      },
    ];
    const sections = this.sections.slice(0, 9).map((section, i): Shortcut => ({
      action: `section-${i + 1}`,
      keys: [[MOD, String(i + 1)]],
      label: `Go to ${section.label}`,
      matches: (e) => withMod(e, String(i + 1)),
    }));
    return [...fixed, ...sections];
  }

  /** The shortcuts that do something now (the help overlay lists these). */
  get available(): Shortcut[] {
    return this.table.filter((s) => this.handler(s.action));
  }

  private handler(action: ShortcutAction): Handler | undefined {
    const section = /^section-(\d+)$/.exec(action);
    if (section) return this.sections[Number(section[1]) - 1]?.open;
    return this.handlers[action];
  }

  /**
   * Makes `action` do `handler` until the returned function is called (an effect's cleanup):
   * `$effect(() => provide("invite", open))`.
   */
  provide(action: ShortcutAction, handler: Handler): () => void {
    this.handlers[action] = handler;
    return () => {
      if (this.handlers[action] === handler) delete this.handlers[action];
    };
  }

  /** Does `action`, when something provides it now; whether it did. */
  run(action: ShortcutAction): boolean {
    const handler = this.handler(action);
    handler?.();
    return handler !== undefined;
  }

  /** Does the shortcut named `action` (an app menu entry's), if it is one that acts now. */
  runNamed(action: string): boolean {
    const shortcut = this.table.find((s) => s.action === action);
    return shortcut !== undefined && this.run(shortcut.action);
  }

  /**
   * Does the shortcut `event` presses, if any, and keeps the key from doing anything else.
   * While a dialog is open the keys belong to it: only Escape (the dialog's own) acts.
   */
  press(event: KeyboardEvent) {
    if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
    const shortcut = this.table.find((s) => s.matches(event));
    if (shortcut && this.run(shortcut.action)) event.preventDefault();
  }
}

export const shortcuts = new Shortcuts();

/** `shortcuts.provide`, for a component's `$effect`. */
export const provide = (action: ShortcutAction, handler: Handler) =>
  shortcuts.provide(action, handler);
