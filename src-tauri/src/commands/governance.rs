//! Access governance (domain.md "Access governance"): end dates and "who can do X". The
//! rules, and their enforcement, are core's.

use crate::state::{signed_in, AppState};
use chrono::NaiveDate;
use gatehouse_core::model::{Action, Module, UserId, UserView};
use gatehouse_core::ops::governance::WhoCan;
use gatehouse_core::ErrorBody;
use tauri::State;

/// Sets (or, with null, removes) the date on which `user`'s access ends.
#[tauri::command]
#[specta::specta]
pub async fn set_access_until(
    state: State<'_, AppState>,
    user: UserId,
    until: Option<NaiveDate>,
) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.set_access_until(s, user, until)).await
}

/// Everyone who may do `action` on `module`, with the roles granting it.
#[tauri::command]
#[specta::specta]
pub async fn who_can(
    state: State<'_, AppState>,
    module: Module,
    action: Action,
) -> Result<WhoCan, ErrorBody> {
    signed_in(state, move |dir, s| dir.who_can(s, module, action)).await
}

/// "Export CSV…" of a who-can answer (an audited export), to a file chosen in the native save
/// dialog. Returns the file's name, or null when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_who_can_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    module: Module,
    action: Action,
) -> Result<Option<String>, ErrorBody> {
    let csv = signed_in(state, move |dir, s| dir.who_can_csv(s, module, action)).await?;
    let what = format!("{}-{}", module.key(), action.letter().to_ascii_lowercase());
    let today = chrono::Local::now().format("%Y-%m-%d");
    crate::commands::files::save_csv(&app, format!("gatehouse-who-can-{what}-{today}.csv"), csv)
        .await
}
