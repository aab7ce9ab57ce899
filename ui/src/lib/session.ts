import type { Action, Module, SessionInfo, UserView } from "./bindings";

/** Whether the signed-in user holds a permission (for showing controls; core enforces). */
export function can(session: SessionInfo, module: Module, action: Action): boolean {
  return session.permissions.some((p) => p.module === module && p.action === action);
}

const isOwner = (roles: string[]) => roles.includes("owner");

/** Whether the signed-in user may manage `user` at all (domain.md rules 1, 3, 5). */
export function mayManage(session: SessionInfo, user: UserView): boolean {
  return user.id !== session.user.id && (!isOwner(user.roles) || isOwner(session.user.roles));
}
