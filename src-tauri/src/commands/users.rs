use crate::state::{blocking, AppState};
use gatehouse_core::model::{Role, UserView};
use gatehouse_core::ErrorBody;
use tauri::State;

#[tauri::command]
#[specta::specta]
pub async fn list_users(state: State<'_, AppState>) -> Result<Vec<UserView>, ErrorBody> {
    let (dir, session) = (state.directory()?, state.session()?);
    blocking(move || dir.list_users(session)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_roles(state: State<'_, AppState>) -> Result<Vec<Role>, ErrorBody> {
    let (dir, session) = (state.directory()?, state.session()?);
    blocking(move || dir.list_roles(session)).await
}
