//! Gatehouse's commands are listed here so that tauri-build generates an `allow-<command>`
//! permission for each: the app's own commands are then refused to any window whose
//! capability does not grant them (see capabilities/main.json). `tests/security_config.rs`
//! checks this list against the commands the app registers.

const COMMANDS: &[&str] = &[
    "app_status",
    "setup",
    "sign_in",
    "sign_out",
    "current_session",
    "verify_second_factor",
    "recover_account",
    "start_enrolment",
    "confirm_enrolment",
    "new_recovery_codes",
    "save_recovery_codes",
    "remove_second_factor",
    "session_is_live",
    "accept_invitation",
    "reset_password",
    "password_strength",
    "query_users",
    "second_factor_reach",
    "user_detail",
    "invite_users",
    "resend_invitation",
    "cancel_invitation",
    "deactivate_user",
    "reactivate_user",
    "change_roles",
    "issue_password_reset",
    "unlock_user",
    "change_own_name",
    "change_own_password",
    "list_roles",
    "create_role",
    "update_role",
    "delete_role",
    "get_organization",
    "update_organization",
    "audit_log",
    "verify_integrity",
    "save_audit_csv",
    "import_preview",
    "import_run",
    "export_users",
    "backup_status",
    "backup_now",
    "choose_backup",
    "restore_chosen",
    "compare_with_chosen",
    "recovery_offer",
    "restore_newest_backup",
    "mail_status",
    "save_mail_settings",
    "send_test_email",
    "outbox",
    "retry_message",
    "discard_message",
    "save_message_eml",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))?;
    Ok(())
}
