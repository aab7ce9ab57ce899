use crate::commands::files::choose;
use crate::state::{signed_in, AppState};
use gatehouse_core::auth::recovery;
use gatehouse_core::model::UserView;
use gatehouse_core::{Enrolled, Enrolment, ErrorBody};
use tauri::State;
use tauri_plugin_dialog::DialogExt;

#[tauri::command]
#[specta::specta]
pub async fn change_own_name(
    state: State<'_, AppState>,
    name: String,
) -> Result<UserView, ErrorBody> {
    signed_in(state, move |dir, s| dir.change_own_name(s, &name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn change_own_password(
    state: State<'_, AppState>,
    current: String,
    new_password: String,
) -> Result<(), ErrorBody> {
    signed_in(state, move |dir, s| dir.change_own_password(s, &current, &new_password)).await
}

/// Starts adding an authenticator app: the secret, its URI and QR code, shown once.
#[tauri::command]
#[specta::specta]
pub async fn start_enrolment(state: State<'_, AppState>) -> Result<Enrolment, ErrorBody> {
    signed_in(state, move |dir, s| dir.start_enrolment(s)).await
}

/// Completes it with the app's current code; returns the new recovery codes (shown once).
#[tauri::command]
#[specta::specta]
pub async fn confirm_enrolment(
    state: State<'_, AppState>,
    code: String,
) -> Result<Enrolled, ErrorBody> {
    signed_in(state, move |dir, s| dir.confirm_enrolment(s, &code)).await
}

/// A new set of recovery codes (the old set stops working), shown once.
#[tauri::command]
#[specta::specta]
pub async fn new_recovery_codes(state: State<'_, AppState>) -> Result<Vec<String>, ErrorBody> {
    signed_in(state, move |dir, s| dir.new_recovery_codes(s)).await
}

/// Asks where to save recovery codes as a text file and writes it (0600). Returns the file's
/// name, or `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_recovery_codes(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    codes: Vec<String>,
) -> Result<Option<String>, ErrorBody> {
    let info = signed_in(state, move |dir, s| dir.current_session(s)).await?;
    let text = recovery::kit_text(&info.organization, &info.user.email, &codes);
    let dialog = app
        .dialog()
        .file()
        .set_file_name("Gatehouse recovery codes.txt")
        .add_filter("Text", &["txt"]);
    let Some(path) = choose(dialog, true).await? else {
        return Ok(None);
    };
    gatehouse_core::files::write_atomically(&path, text.as_bytes()).map_err(|e| e.to_body())?;
    Ok(Some(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()))
}
