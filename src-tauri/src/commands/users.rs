use crate::events::ImportProgress;
use crate::state::{signed_in, AppState};
use gatehouse_core::model::{IssuedCode, RoleKey, UserId, UserView};
use gatehouse_core::{
    BulkAction, BulkOutcome, ErrorBody, ImportReport, InviteOutcome, InviteRequest,
    SecondFactorReach, UserDetail, UserPage, UserQuery,
};
use tauri::State;
use tauri_specta::Event;

/// Profile, effective permissions with the roles granting them, and recent history.
#[tauri::command]
#[specta::specta]
pub async fn user_detail(
    state: State<'_, AppState>,
    user: UserId,
) -> Result<UserDetail, ErrorBody> {
    signed_in(state, move |dir, s| dir.user_detail(s, user)).await
}

#[tauri::command]
#[specta::specta]
pub async fn invite_users(
    state: State<'_, AppState>,
    request: InviteRequest,
) -> Result<Vec<InviteOutcome>, ErrorBody> {
    let out = signed_in(state.clone(), move |dir, s| dir.invite_users(s, request)).await;
    state.courier.notify_one(); // an email is queued
    out
}

#[tauri::command]
#[specta::specta]
pub async fn resend_invitation(
    state: State<'_, AppState>,
    user: UserId,
) -> Result<IssuedCode, ErrorBody> {
    let out = signed_in(state.clone(), move |dir, s| dir.resend_invitation(s, user)).await;
    state.courier.notify_one(); // an email is queued
    out
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_invitation(state: State<'_, AppState>, user: UserId) -> Result<(), ErrorBody> {
    signed_in(state, move |dir, s| dir.cancel_invitation(s, user)).await
}

#[tauri::command]
#[specta::specta]
pub async fn deactivate_user(
    state: State<'_, AppState>,
    user: UserId,
    reason: Option<String>,
) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.deactivate_user(s, user, reason)).await
}

#[tauri::command]
#[specta::specta]
pub async fn reactivate_user(
    state: State<'_, AppState>,
    user: UserId,
) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.reactivate_user(s, user)).await
}

/// Gives `user` exactly `roles`; `approval` says who approved a grant (required for the roles
/// Settings name).
#[tauri::command]
#[specta::specta]
pub async fn change_roles(
    state: State<'_, AppState>,
    user: UserId,
    roles: Vec<RoleKey>,
    approval: Option<String>,
) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.change_roles_approved(s, user, roles, approval)).await
}

/// Does `action` to each of `users` under the ordinary rules; each user's outcome (a resent
/// invitation's new code among them), one refusal never stopping the others.
#[tauri::command]
#[specta::specta]
pub async fn bulk_users(
    state: State<'_, AppState>,
    action: BulkAction,
    users: Vec<UserId>,
) -> Result<Vec<BulkOutcome>, ErrorBody> {
    let resend = action == BulkAction::ResendInvitation;
    let out = signed_in(state.clone(), move |dir, s| dir.bulk_users(s, action, users)).await;
    if resend {
        state.courier.notify_one(); // emails are queued
    }
    out
}

#[tauri::command]
#[specta::specta]
pub async fn issue_password_reset(
    state: State<'_, AppState>,
    user: UserId,
) -> Result<IssuedCode, ErrorBody> {
    let out = signed_in(state.clone(), move |dir, s| dir.issue_password_reset(s, user)).await;
    state.courier.notify_one(); // an email is queued
    out
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_user(state: State<'_, AppState>, user: UserId) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.unlock_user(s, user)).await
}

/// Removes a user's second factor (a lost phone): their sessions end.
#[tauri::command]
#[specta::specta]
pub async fn remove_second_factor(
    state: State<'_, AppState>,
    user: UserId,
) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.remove_second_factor(s, user)).await
}

/// The Active users a second-factor requirement for `roles` would reach (no second factor yet).
#[tauri::command]
#[specta::specta]
pub async fn second_factor_reach(
    state: State<'_, AppState>,
    roles: Vec<RoleKey>,
) -> Result<SecondFactorReach, ErrorBody> {
    signed_in(state, move |dir, s| dir.second_factor_reach(s, &roles)).await
}

#[tauri::command]
#[specta::specta]
pub async fn query_users(
    state: State<'_, AppState>,
    query: UserQuery,
) -> Result<UserPage, ErrorBody> {
    signed_in(state, move |dir, s| dir.query_users(s, query)).await
}

/// The ids of every user `query` matches, in the list's order ("Select all N matching");
/// refused with `too_many_users` beyond what one bulk request may name.
#[tauri::command]
#[specta::specta]
pub async fn matching_users(
    state: State<'_, AppState>,
    query: UserQuery,
) -> Result<Vec<UserId>, ErrorBody> {
    signed_in(state, move |dir, s| dir.matching_user_ids(s, query)).await
}

/// "Import CSV…": the person picks a file in the native dialog; it is kept in the app (the
/// window never names a path) and judged row by row without changing anything. Null when
/// cancelled.
#[tauri::command]
#[specta::specta]
pub async fn import_preview(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<ImportReport>, ErrorBody> {
    use tauri_plugin_dialog::DialogExt;
    let dialog = app.dialog().file().add_filter("CSV", &["csv", "txt"]);
    let Some(path) = crate::commands::files::choose(dialog, false).await? else {
        return Ok(None);
    };
    let bytes = gatehouse_core::csv_io::read_file(&path).map_err(|e| e.to_body())?;
    state.keep_import(bytes.clone());
    signed_in(state, move |dir, s| dir.import_users_csv(s, &bytes, true, None, |_, _| {}).map(Some))
        .await
}

/// Judges the previewed file again, row by row, with the approval reference typed since
/// (nothing changes).
#[tauri::command]
#[specta::specta]
pub async fn import_check(
    state: State<'_, AppState>,
    approval: Option<String>,
) -> Result<ImportReport, ErrorBody> {
    let bytes = state.peek_import().ok_or_else(|| {
        gatehouse_core::Error::InvalidFile("Choose the file to import first.".into()).to_body()
    })?;
    signed_in(state, move |dir, s| dir.import_users_csv(s, &bytes, true, approval, |_, _| {})).await
}

/// Invites the valid rows of the previewed file, each grant carrying `approval`, sending
/// `ImportProgress` events.
#[tauri::command]
#[specta::specta]
pub async fn import_run(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    approval: Option<String>,
) -> Result<ImportReport, ErrorBody> {
    let bytes = state.take_import().ok_or_else(|| {
        gatehouse_core::Error::InvalidFile("Choose the file to import first.".into()).to_body()
    })?;
    let out = signed_in(state.clone(), move |dir, s| {
        dir.import_users_csv(s, &bytes, false, approval, |done, total| {
            let _ = ImportProgress { done, total }.emit(&app);
        })
    })
    .await;
    state.courier.notify_one(); // invitation emails are queued
    out
}

/// "Export CSV": every user, to a file chosen in the native save dialog. Returns the file's
/// name, or null when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_users(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<String>, ErrorBody> {
    let csv = signed_in(state, |dir, s| dir.users_csv(s)).await?;
    let today = chrono::Local::now().format("%Y-%m-%d");
    crate::commands::files::save_csv(&app, format!("gatehouse-users-{today}.csv"), csv).await
}

/// A one-time code as the screen that showed it once hands it over to be saved.
#[derive(Debug, serde::Deserialize, specta::Type)]
pub struct ShownCode {
    pub email: String,
    pub code: String,
    pub expires_at: String,
}

/// Asks where to save the one-time codes a screen shows (an invitation's result, an import's
/// report) and writes them there as CSV; `None` when cancelled. Only for a live session.
#[tauri::command]
#[specta::specta]
pub async fn save_codes_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    codes: Vec<ShownCode>,
) -> Result<Option<String>, ErrorBody> {
    let csv = signed_in(state, move |dir, s| {
        dir.current_session(s)?;
        let rows: Vec<(&str, &str, &str)> = codes
            .iter()
            .map(|c| (c.email.as_str(), c.code.as_str(), c.expires_at.as_str()))
            .collect();
        Ok(gatehouse_core::csv_io::codes(&rows))
    })
    .await?;
    let today = chrono::Local::now().format("%Y-%m-%d");
    crate::commands::files::save_csv(&app, format!("gatehouse-codes-{today}.csv"), csv).await
}
