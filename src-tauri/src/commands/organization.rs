use crate::state::{signed_in, AppState};
use gatehouse_core::model::Organization;
use gatehouse_core::{AuditPage, AuditQuery, ErrorBody, Integrity, SettingsInput};
use tauri::State;

#[tauri::command]
#[specta::specta]
pub async fn get_organization(state: State<'_, AppState>) -> Result<Organization, ErrorBody> {
    signed_in(state, |dir, s| dir.organization(s)).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_organization(
    state: State<'_, AppState>,
    input: SettingsInput,
) -> Result<Organization, ErrorBody> {
    signed_in(state, move |dir, s| dir.update_organization(s, input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn audit_log(
    state: State<'_, AppState>,
    query: AuditQuery,
) -> Result<AuditPage, ErrorBody> {
    signed_in(state, move |dir, s| dir.audit_log(s, query)).await
}

#[tauri::command]
#[specta::specta]
pub async fn verify_integrity(state: State<'_, AppState>) -> Result<Integrity, ErrorBody> {
    signed_in(state, |dir, s| dir.verify_integrity(s)).await
}

/// Asks where to save (the native save dialog, opened from Rust: the UI never names a path)
/// and writes the audit log matching `query` there as CSV. Returns the file name, or `null`
/// when the person cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_audit_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    query: AuditQuery,
) -> Result<Option<String>, ErrorBody> {
    let csv = signed_in(state, move |dir, s| dir.audit_csv(s, query)).await?;
    let today = chrono::Local::now().format("%Y-%m-%d");
    crate::commands::files::save_csv(&app, format!("gatehouse-audit-{today}.csv"), csv).await
}
