use crate::state::{signed_in, AppState};
use gatehouse_core::model::Role;
use gatehouse_core::{ErrorBody, RoleCopy, RoleInput, RoleView};
use tauri::State;

#[tauri::command]
#[specta::specta]
pub async fn list_roles(state: State<'_, AppState>) -> Result<Vec<RoleView>, ErrorBody> {
    signed_in(state, |dir, s| dir.list_roles(s)).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_role(state: State<'_, AppState>, input: RoleInput) -> Result<Role, ErrorBody> {
    signed_in(state, move |dir, s| dir.create_role(s, input)).await
}

/// A new custom role copied from `copy.from`, as edited before saving.
#[tauri::command]
#[specta::specta]
pub async fn duplicate_role(state: State<'_, AppState>, copy: RoleCopy) -> Result<Role, ErrorBody> {
    signed_in(state, move |dir, s| dir.duplicate_role(s, copy)).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_role(
    state: State<'_, AppState>,
    key: String,
    input: RoleInput,
) -> Result<Role, ErrorBody> {
    signed_in(state, move |dir, s| dir.update_role(s, &key, input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_role(state: State<'_, AppState>, key: String) -> Result<(), ErrorBody> {
    signed_in(state, move |dir, s| dir.delete_role(s, &key)).await
}
