//! Email: the mail server settings with their password, "Send test email", and the outbox.

use super::files::choose;
use crate::secrets::PasswordState;
use crate::state::{blocking, signed_in, AppState};
use gatehouse_core::mail::{self, MailSettings, MessageView, SaveAs, TestReport};
use gatehouse_core::{Error, ErrorBody};
use serde::Serialize;
use tauri::{Manager, State};
use tauri_plugin_dialog::DialogExt;
use uuid::Uuid;

/// The Email section of Settings.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct MailStatus {
    /// `None` until sending is set up.
    pub settings: Option<MailSettings>,
    pub password: PasswordState,
}

async fn status(app: &tauri::AppHandle, settings: Option<MailSettings>) -> MailStatus {
    let app = app.clone();
    let for_password = settings.clone();
    let password = tauri::async_runtime::spawn_blocking(move || {
        app.state::<AppState>().password.state(for_password.as_ref())
    })
    .await
    .unwrap_or(PasswordState::Missing(None));
    MailStatus { settings, password }
}

/// Needs `settings:read`.
#[tauri::command]
#[specta::specta]
pub async fn mail_status(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<MailStatus, ErrorBody> {
    let org = signed_in(state, |dir, s| dir.organization(s)).await?;
    Ok(status(&app, org.mail).await)
}

/// Saves the mail server (or with `None`, turns sending off). A `password`, when given, goes
/// to the credential store; the old server's is forgotten when the server changes.
#[tauri::command]
#[specta::specta]
pub async fn save_mail_settings(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    settings: Option<MailSettings>,
    password: Option<String>,
) -> Result<MailStatus, ErrorBody> {
    let before = state.directory()?.mail_settings().map_err(|e| e.to_body())?;
    let org = signed_in(state.clone(), move |dir, s| dir.update_mail_settings(s, settings)).await?;
    let after = org.mail.clone();
    let keeper = app.clone();
    let (old, new) = (before.clone(), after.clone());
    tauri::async_runtime::spawn_blocking(move || {
        let secrets = &keeper.state::<AppState>().password;
        if let Some(old) = old.filter(|old| Some(old) != new.as_ref()) {
            if new.as_ref().is_none_or(|n| {
                (&n.host, n.port, &n.username) != (&old.host, old.port, &old.username)
            }) {
                secrets.forget(&old);
            }
        }
        if let (Some(new), Some(password)) = (new, password.filter(|p| !p.is_empty())) {
            secrets.set(&new, password);
        }
    })
    .await
    .map_err(|_| Error::Internal("the credential store").to_body())?;
    state.courier.notify_one();
    Ok(status(&app, after).await)
}

/// Sends a test message to the signed-in person and reports each step. Needs
/// `settings:update`; the result is in the audit log.
#[tauri::command]
#[specta::specta]
pub async fn send_test_email(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<TestReport, ErrorBody> {
    let (dir, session) = (state.directory()?, state.session()?);
    let test = {
        let dir = dir.clone();
        blocking(move || dir.test_email(session)).await?
    };
    let settings = test.settings.clone();
    let password = tauri::async_runtime::spawn_blocking(move || {
        app.state::<AppState>().password.get(&settings)
    })
    .await
    .ok()
    .flatten();
    let report =
        mail::test_connection(&test.settings, password.as_deref(), &test.envelope, &test.bytes)
            .await;
    let to = test.to.clone();
    let recorded = report.clone();
    blocking(move || dir.record_test_email(session, &to, &recorded)).await?;
    Ok(report)
}

/// The newest 500 messages. Needs `users:read`.
#[tauri::command]
#[specta::specta]
pub async fn outbox(state: State<'_, AppState>) -> Result<Vec<MessageView>, ErrorBody> {
    signed_in(state, |dir, s| dir.outbox(s, 500)).await
}

#[tauri::command]
#[specta::specta]
pub async fn retry_message(
    state: State<'_, AppState>,
    message: Uuid,
) -> Result<MessageView, ErrorBody> {
    let view = signed_in(state.clone(), move |dir, s| dir.retry_message(s, message)).await?;
    state.courier.notify_one();
    Ok(view)
}

#[tauri::command]
#[specta::specta]
pub async fn discard_message(
    state: State<'_, AppState>,
    message: Uuid,
) -> Result<MessageView, ErrorBody> {
    signed_in(state, move |dir, s| dir.discard_message(s, message)).await
}

/// Asks where to save an unsent message as an .eml file, writes it and takes the message out
/// of the queue. `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_message_eml(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    message: Uuid,
    to: String,
) -> Result<Option<SaveAs>, ErrorBody> {
    let name: String = to
        .chars()
        .map(|c| if c.is_alphanumeric() || "@.-_".contains(c) { c } else { '_' })
        .collect();
    let dialog = app
        .dialog()
        .file()
        .set_file_name(format!("Gatehouse message to {name}.eml"))
        .add_filter("Email message", &["eml"]);
    let Some(path) = choose(dialog, true).await? else {
        return Ok(None);
    };
    signed_in(state, move |dir, s| dir.save_message(s, message, &path)).await.map(Some)
}
