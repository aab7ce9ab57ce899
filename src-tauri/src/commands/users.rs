use crate::state::{signed_in, AppState};
use gatehouse_core::model::{IssuedCode, RoleKey, UserId, UserView};
use gatehouse_core::{ErrorBody, InviteOutcome, InviteRequest, UserDetail, UserPage, UserQuery};
use tauri::State;

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
    signed_in(state, move |dir, s| dir.invite_users(s, request)).await
}

#[tauri::command]
#[specta::specta]
pub async fn resend_invitation(
    state: State<'_, AppState>,
    user: UserId,
) -> Result<IssuedCode, ErrorBody> {
    signed_in(state, move |dir, s| dir.resend_invitation(s, user)).await
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

#[tauri::command]
#[specta::specta]
pub async fn change_roles(
    state: State<'_, AppState>,
    user: UserId,
    roles: Vec<RoleKey>,
) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.change_roles(s, user, roles)).await
}

#[tauri::command]
#[specta::specta]
pub async fn issue_password_reset(
    state: State<'_, AppState>,
    user: UserId,
) -> Result<IssuedCode, ErrorBody> {
    signed_in(state, move |dir, s| dir.issue_password_reset(s, user)).await
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_user(state: State<'_, AppState>, user: UserId) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.unlock_user(s, user)).await
}

#[tauri::command]
#[specta::specta]
pub async fn query_users(
    state: State<'_, AppState>,
    query: UserQuery,
) -> Result<UserPage, ErrorBody> {
    signed_in(state, move |dir, s| dir.query_users(s, query)).await
}
