//! Backups from the window: automatic ones at start, "back up now" and "restore" in Settings
//! (files chosen in native dialogs opened from Rust), and the way back when the store cannot
//! be opened.

use crate::commands::files::choose;
use crate::state::{blocking, signed_in, AppState};
use chrono::{DateTime, Utc};
use gatehouse_core::backup::{self, BackupInfo, Restored};
use gatehouse_core::{Error, ErrorBody};
use serde::Serialize;
use std::path::PathBuf;
use tauri::{Manager, State};
use tauri_plugin_dialog::DialogExt;

/// At start, in the background: a backup of a set-up store into `backups/`, pruned to the
/// newest 10 plus one a day for 30 days.
pub fn automatic_backup(state: &AppState) {
    let (Ok(dir), Ok(data)) = (state.directory(), state.data_dir()) else { return };
    std::thread::spawn(move || {
        if !dir.is_set_up().unwrap_or(false) {
            return;
        }
        match backup::automatic(&dir, &data.join("backups"), Utc::now()) {
            Ok(info) => tracing::info!("automatic backup: {} users", info.users),
            Err(e) => tracing::warn!("automatic backup failed: {e}"),
        }
    });
}

/// What Settings shows about backups.
#[derive(Debug, Serialize, specta::Type)]
pub struct BackupStatus {
    /// The newest automatic backup's time.
    pub latest: Option<DateTime<Utc>>,
    /// How many automatic backups are kept.
    pub count: u32,
    /// The folder they are kept in.
    pub folder: String,
}

#[tauri::command]
#[specta::specta]
pub async fn backup_status(state: State<'_, AppState>) -> Result<BackupStatus, ErrorBody> {
    let folder = state.data_dir()?.join("backups");
    signed_in(state, move |dir, s| {
        dir.organization(s)?; // settings:read, as the rest of Settings
        let list = backup::list(&folder);
        Ok(BackupStatus {
            latest: list.first().map(|(_, at)| *at),
            count: list.len() as u32,
            folder: folder.display().to_string(),
        })
    })
    .await
}

/// "Back up now": the Owner chooses where; returns the file's name, or null when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn backup_now(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<BackupInfo>, ErrorBody> {
    let (dir, session) = (state.directory()?, state.session()?);
    let today = chrono::Local::now().format("%Y-%m-%d");
    let Some(path) = choose(
        app.dialog()
            .file()
            .set_file_name(format!("gatehouse-{today}.{}", backup::EXTENSION))
            .add_filter("Gatehouse backup", &[backup::EXTENSION]),
        true,
    )
    .await?
    else {
        return Ok(None);
    };
    blocking(move || dir.backup(session, &path).map(Some)).await
}

/// "Restore from a backup…": an Owner chooses the file; it is checked in full, the current
/// store is kept aside, and everyone signs in again. Null when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn restore_from_file(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<Restored>, ErrorBody> {
    let (dir, session) = (state.directory()?, state.session()?);
    blocking(move || dir.may_restore(session)).await?;
    let Some(file) =
        choose(app.dialog().file().add_filter("Gatehouse backup", &[backup::EXTENSION]), false)
            .await?
    else {
        return Ok(None);
    };
    restore(app, file).await.map(Some)
}

/// The newest good automatic backup, offered when the store cannot be opened or is empty.
#[derive(Debug, Serialize, specta::Type)]
pub struct RecoveryOffer {
    pub file: String,
    pub info: BackupInfo,
}

#[tauri::command]
#[specta::specta]
pub async fn recovery_offer(
    state: State<'_, AppState>,
) -> Result<Option<RecoveryOffer>, ErrorBody> {
    if !needs_recovery(&state) {
        return Ok(None);
    }
    let folder = state.data_dir()?.join("backups");
    blocking(move || {
        Ok(backup::newest_good(&folder).map(|(path, info)| RecoveryOffer {
            file: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            info,
        }))
    })
    .await
}

/// Restores the newest good automatic backup. Only while the store cannot be opened or holds
/// no organization: then there is nobody to ask, and this is the way back.
#[tauri::command]
#[specta::specta]
pub async fn restore_newest_backup(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<Restored, ErrorBody> {
    if !needs_recovery(&state) {
        return Err(Error::PermissionDenied.to_body());
    }
    let folder = state.data_dir()?.join("backups");
    let newest = blocking(move || Ok(backup::newest_good(&folder))).await?;
    let (file, _) = newest
        .ok_or_else(|| Error::BackupInvalid("no automatic backup checks out".into()).to_body())?;
    restore(app, file).await
}

fn needs_recovery(state: &AppState) -> bool {
    match state.directory() {
        Err(_) => true,
        Ok(dir) => !dir.is_set_up().unwrap_or(true),
    }
}

/// Closes the store, restores `file` into its place and opens the restored one, off the UI
/// thread.
async fn restore(app: tauri::AppHandle, file: PathBuf) -> Result<Restored, ErrorBody> {
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        let restored = state.reopen_after(|store| backup::restore(&file, store));
        if restored.is_ok() {
            automatic_backup(&state);
        }
        restored
    })
    .await
    .map_err(|_| Error::Internal("the restore").to_body())?
}
