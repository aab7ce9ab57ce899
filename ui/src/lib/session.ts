import type { Act, ActOption, Action, Module, SessionInfo, UserView } from "./bindings";

/** Whether the signed-in user holds a permission (for showing controls; core enforces). */
export function can(session: SessionInfo, module: Module, action: Action): boolean {
  return session.permissions.some((p) => p.module === module && p.action === action);
}

/** The row menu's name for each of core's acts on a person. */
export type UserAction =
  | "resend"
  | "cancel"
  | "roles"
  | "reset"
  | "deactivate"
  | "reactivate"
  | "unlock"
  | "second_factor";

const menu: Record<Act, [UserAction, string] | null> = {
  resend_invitation: ["resend", "Resend invitation"],
  cancel_invitation: ["cancel", "Cancel invitation"],
  change_roles: ["roles", "Change roles"],
  issue_reset: ["reset", "Issue password reset code"],
  unlock: ["unlock", "Unlock sign-in"],
  deactivate: ["deactivate", "Deactivate"],
  reactivate: ["reactivate", "Reactivate"],
  // Outbox messages have their own screen.
  handle_message: null,
  remove_second_factor: ["second_factor", "Remove second factor"],
  // Not offered from the row menu yet (another branch adds end dates).
  set_access_until: null,
};

/** The acts core allows on `user` for the signed-in person, in core's order, as menu items. */
export function allowedActions(user: UserView): [UserAction, string][] {
  return user.actions.flatMap((o) => {
    const item = menu[o.act];
    return item && !o.refused ? [item] : [];
  });
}

/**
 * Core's sentence for why the signed-in person may do nothing to `user`: the first refusal,
 * when every act was refused; `null` when something is allowed (or nothing applies).
 */
export function refusalOf(user: UserView): string | null {
  const first = user.actions[0]?.refused;
  return first && user.actions.every((o) => o.refused) ? first.message : null;
}

/** Core's answer for one act on `user`: allowed (`refused` null), refused, or not offered. */
export function optionOf(user: UserView, act: Act): ActOption | undefined {
  return user.actions.find((o) => o.act === act);
}
