use crate::state::{signed_in, AppState};
use gatehouse_core::model::UserView;
use gatehouse_core::ErrorBody;
use tauri::State;

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
