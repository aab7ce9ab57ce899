use crate::state::{blocking, AppState};
use gatehouse_core::auth::password::{self, Strength};
use gatehouse_core::{
    AcceptInput, ErrorBody, ErrorCode, RecoverInput, ResetInput, SessionInfo, SetupInput,
};
use serde::Serialize;
use tauri::State;

/// What the first screen needs to know.
#[derive(Debug, Serialize, specta::Type)]
pub struct AppStatus {
    /// Whether first-run setup is done (false: show the setup screen).
    pub set_up: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, ErrorBody> {
    let dir = state.directory()?;
    let set_up = blocking(move || dir.is_set_up()).await?;
    Ok(AppStatus { set_up })
}

#[tauri::command]
#[specta::specta]
pub async fn setup(
    state: State<'_, AppState>,
    input: SetupInput,
) -> Result<SessionInfo, ErrorBody> {
    let dir = state.directory()?;
    let signed_in = blocking(move || dir.setup(input)).await?;
    state.set_session(Some(signed_in.session));
    Ok(signed_in.info)
}

#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    state: State<'_, AppState>,
    email: String,
    password: String,
) -> Result<SessionInfo, ErrorBody> {
    let dir = state.directory()?;
    let signed_in = blocking(move || dir.sign_in(&email, &password)).await?;
    state.set_session(Some(signed_in.session));
    Ok(signed_in.info)
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), ErrorBody> {
    let dir = state.directory()?;
    if let Ok(session) = state.session() {
        state.set_session(None);
        blocking(move || dir.sign_out(session)).await?;
    }
    Ok(())
}

/// The second step of signing in: the authenticator's code or a recovery code.
#[tauri::command]
#[specta::specta]
pub async fn verify_second_factor(
    state: State<'_, AppState>,
    code: String,
) -> Result<SessionInfo, ErrorBody> {
    let dir = state.directory()?;
    let session = state.session()?;
    let result = blocking(move || dir.verify_second_factor(session, &code)).await;
    if result.as_ref().is_err_and(|e| e.code == ErrorCode::LockedOut) {
        state.set_session(None);
    }
    result
}

/// An Owner's way back in with their recovery kit ("I can't sign in"): a new password, the
/// lockout lifted, and signed in.
#[tauri::command]
#[specta::specta]
pub async fn recover_account(
    state: State<'_, AppState>,
    input: RecoverInput,
) -> Result<SessionInfo, ErrorBody> {
    let dir = state.directory()?;
    let signed_in = blocking(move || dir.recover_account(input)).await?;
    state.set_session(Some(signed_in.session));
    Ok(signed_in.info)
}

/// The signed-in user, or `null` when nobody is signed in (or the session ended).
#[tauri::command]
#[specta::specta]
pub async fn current_session(state: State<'_, AppState>) -> Result<Option<SessionInfo>, ErrorBody> {
    let dir = state.directory()?;
    let Ok(session) = state.session() else { return Ok(None) };
    match blocking(move || dir.current_session(session)).await {
        Ok(info) => Ok(Some(info)),
        Err(e) if matches!(e.code, ErrorCode::NotSignedIn | ErrorCode::SessionExpired) => {
            state.set_session(None);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The live strength meter beside password fields: the same judgement as the policy, against
/// the person's own name, email and organization (`context`).
#[tauri::command]
#[specta::specta]
pub async fn password_strength(
    password: String,
    context: Vec<String>,
) -> Result<Strength, ErrorBody> {
    blocking(move || {
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        Ok(password::strength(&password, &context))
    })
    .await
}

/// The invitee accepts with their code, sets name and password, and is signed in.
#[tauri::command]
#[specta::specta]
pub async fn accept_invitation(
    state: State<'_, AppState>,
    input: AcceptInput,
) -> Result<SessionInfo, ErrorBody> {
    let dir = state.directory()?;
    let signed_in = blocking(move || dir.accept_invitation(input)).await?;
    state.set_session(Some(signed_in.session));
    Ok(signed_in.info)
}

/// Sets a new password with a reset code (then sign in with it).
#[tauri::command]
#[specta::specta]
pub async fn reset_password(
    state: State<'_, AppState>,
    input: ResetInput,
) -> Result<(), ErrorBody> {
    let dir = state.directory()?;
    blocking(move || dir.reset_password(input)).await
}

/// Whether the window's session is still live, without counting as activity (the UI polls it
/// to show the lock screen after the idle timeout).
#[tauri::command]
#[specta::specta]
pub async fn session_is_live(state: State<'_, AppState>) -> Result<bool, ErrorBody> {
    let dir = state.directory()?;
    let Ok(session) = state.session() else { return Ok(false) };
    blocking(move || dir.session_is_live(session)).await
}
