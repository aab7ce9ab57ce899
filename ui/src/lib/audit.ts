import type { AuditAction } from "./bindings";

/** Every audit action's label: a Record, so that TypeScript refuses a missing one. */
const LABELS: Record<AuditAction, string> = {
  setup: "Setup",
  sign_in: "Sign-in",
  sign_out: "Sign-out",
  permission_denied: "Permission denied",
  invite: "Invite",
  resend_invitation: "Resend invitation",
  cancel_invitation: "Cancel invitation",
  accept_invitation: "Accept invitation",
  deactivate: "Deactivate",
  reactivate: "Reactivate",
  change_roles: "Change roles",
  change_name: "Change name",
  change_password: "Change password",
  issue_password_reset: "Issue password reset",
  reset_password: "Reset password",
  unlock: "Unlock",
  create_role: "Create role",
  update_role: "Update role",
  delete_role: "Delete role",
  update_settings: "Update settings",
  import_users: "Import users",
  backup: "Backup",
  restore: "Restore",
  update_mail_settings: "Update email settings",
  test_email: "Test email",
  email_sent: "Email sent",
  email_failed: "Email failed",
  email_discarded: "Email discarded",
  email_saved: "Email saved as a file",
  email_retried: "Email retried",
  export_users: "Export users",
  compare_with_backup: "Compare with a backup",
  enrol_second_factor: "Second factor added",
  remove_second_factor: "Second factor removed",
  new_recovery_codes: "New recovery codes",
  recover_account: "Recovered with a recovery code",
  export_audit: "Export audit log",
  set_access_until: "Set access end date",
  read_audit: "Read audit log",
  who_can: "Who can…",
  start_review: "Start access review",
  decide_review: "Decide in access review",
  apply_review: "Apply access review",
  sign_off_review: "Sign off access review",
};

/** Every audit action with its label, in the order the filter lists them. */
export const AUDIT_ACTIONS = Object.entries(LABELS) as [AuditAction, string][];

export const actionLabel = (a: AuditAction) => LABELS[a] ?? a;
