//! Backups from the window: automatic ones at start, "back up now" and "restore" in Settings
//! (files chosen in native dialogs opened from Rust), and the way back when the store cannot
//! be opened.

use crate::commands::files::choose;
use crate::state::{blocking, signed_in, AppState};
use chrono::{DateTime, Utc};
use gatehouse_core::backup::{self, AnchorCheck, BackupInfo, Opening, RestoreRight, Restored};
use gatehouse_core::secrets::Keys;
use gatehouse_core::{Error, ErrorBody};
use serde::Serialize;
use std::path::PathBuf;
use tauri::{Manager, State};
use tauri_plugin_dialog::DialogExt;

/// At start: opens the store, then writes its automatic backup in the background, both on one
/// thread; returns once the store is open and in the app's state. The backup reads every record
/// the opening has just read for the list index, and on the opening's thread the allocator
/// reuses for it what the opening let go: on a thread of its own it left about 20 MB resident
/// for as long as the app ran (BENCHMARKS.md, "Where the app's memory goes").
pub fn open_then_back_up(
    app: &tauri::AppHandle,
    data: Result<PathBuf, String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let (opened, state) = std::sync::mpsc::sync_channel(1);
    let (managed, in_state) = std::sync::mpsc::sync_channel::<()>(1);
    let handle = app.clone();
    std::thread::Builder::new().name("store".into()).spawn(move || {
        if opened.send(AppState::open(data)).is_ok() && in_state.recv().is_ok() {
            write_automatic_backup(&handle);
        }
    })?;
    app.manage(state.recv().map_err(|_| "the store could not be opened")?);
    managed.send(())?;
    Ok(())
}

/// In the background, on a thread of its own: the automatic backup after a restore (whose
/// reopened store has no opening thread to share; the allocator keeps some of this thread's
/// pages, as at start before `open_then_back_up`).
pub fn automatic_backup(app: &tauri::AppHandle) {
    let app = app.clone();
    std::thread::spawn(move || write_automatic_backup(&app));
}

/// A backup of a set-up store into `backups/`, locked with this computer's key and pruned to
/// the newest 10 plus one a day for 30 days. Why it could not be made is kept for Settings to
/// say.
fn write_automatic_backup(app: &tauri::AppHandle) {
    let state = app.state::<AppState>();
    let (Ok(dir), Ok(data)) = (state.directory(), state.data_dir()) else { return };
    if !dir.is_set_up().unwrap_or(false) {
        return;
    }
    let problem = match dir.backup_automatic(&data.join("backups")) {
        Ok(info) => {
            tracing::info!(
                "automatic backup: {} users, {} events; audit chain head #{} {}",
                info.users,
                info.audit_events,
                info.audit_head_seq,
                info.audit_head_hash
            );
            None
        }
        Err(e) => {
            tracing::warn!("automatic backup failed: {e}");
            Some(e.to_string())
        }
    };
    state.set_backup_problem(problem);
}

/// What Settings shows about backups.
#[derive(Debug, Serialize, specta::Type)]
pub struct BackupStatus {
    /// The newest automatic backup's time (the time written inside it).
    pub latest: Option<DateTime<Utc>>,
    /// How many automatic backups are kept.
    pub count: u32,
    /// The folder they are kept in.
    pub folder: String,
    /// Why the last automatic backup could not be made (no credential store, a full disk).
    pub problem: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn backup_status(state: State<'_, AppState>) -> Result<BackupStatus, ErrorBody> {
    let data = state.data_dir()?;
    let problem = state.backup_problem();
    signed_in(state, move |dir, s| {
        dir.organization(s)?; // settings:read, as the rest of Settings
        let folder = data.join("backups");
        let keys = Keys::system();
        let opening = Opening { current: Some(dir.store_id()?), ..Opening::new(&data, &keys) };
        let list = backup::list(&folder, &opening);
        Ok(BackupStatus {
            latest: list.first().map(|(_, at)| *at),
            count: list.len() as u32,
            folder: folder.display().to_string(),
            problem,
        })
    })
    .await
}

/// "Back up now": the Owner has typed a passphrase (twice, in the window); it is judged by the
/// password rules, then the Owner chooses where to save. Null when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn backup_now(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<Option<BackupInfo>, ErrorBody> {
    let (dir, session) = (state.directory()?, state.session()?);
    let judged = (dir.clone(), passphrase.clone());
    blocking(move || judged.0.check_backup_passphrase(session, &judged.1)).await?;
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
    blocking(move || dir.backup(session, &path, &passphrase).map(Some)).await
}

/// A backup file the person chose, kept in Rust between the choice and its use.
#[derive(Debug, Serialize, specta::Type)]
pub struct ChosenBackup {
    /// The file's name, to show.
    pub name: String,
}

/// "Restore from a backup…" and "Compare with a backup…": the person chooses a backup file in
/// a native dialog; the next restore or comparison uses it. Null when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn choose_backup(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<ChosenBackup>, ErrorBody> {
    let dialog = app.dialog().file().add_filter("Gatehouse backup", &[backup::EXTENSION]);
    let Some(file) = choose(dialog, false).await? else {
        return Ok(None);
    };
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    state.keep_backup(file);
    Ok(Some(ChosenBackup { name }))
}

/// Restores the chosen backup. Signed in, the Owner's `password` is the right to replace the
/// store; while the store cannot be opened (or holds no organization), the backup's own
/// `passphrase` (or this computer's key) is. `accept_unencrypted`: the person confirmed that
/// they accept the risk of a backup written before backups were encrypted. Everyone signs in
/// again after it.
#[tauri::command]
#[specta::specta]
pub async fn restore_chosen(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    password: Option<String>,
    passphrase: Option<String>,
    accept_unencrypted: bool,
) -> Result<Restored, ErrorBody> {
    let file = state
        .chosen_backup()
        .ok_or_else(|| Error::BackupInvalid("no backup was chosen".into()).to_body())?;
    let right = match (state.directory(), state.session()) {
        (Ok(dir), Ok(session)) if !needs_recovery(&state) => {
            let password = password.unwrap_or_default();
            Some(blocking(move || dir.may_restore(session, &password)).await?)
        }
        // The store cannot be used: the right is judged once it is closed (see `restore`).
        _ if needs_recovery(&state) => None,
        _ => return Err(Error::NotSignedIn.to_body()),
    };
    restore(app, file, right, passphrase, accept_unencrypted).await
}

/// "Compare with a backup…" in the Audit log: holds today's log against the chosen backup's
/// copy. Needs `audit:read`; audited.
#[tauri::command]
#[specta::specta]
pub async fn compare_with_chosen(
    state: State<'_, AppState>,
    passphrase: Option<String>,
) -> Result<AnchorCheck, ErrorBody> {
    let file = state
        .chosen_backup()
        .ok_or_else(|| Error::BackupInvalid("no backup was chosen".into()).to_body())?;
    let data = state.data_dir()?;
    signed_in(state, move |dir, s| {
        let keys = Keys::system();
        let opening = Opening { passphrase: passphrase.as_deref(), ..Opening::new(&data, &keys) };
        dir.compare_with_backup(s, &file, &opening)
    })
    .await
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
    let data = state.data_dir()?;
    blocking(move || {
        let keys = Keys::system();
        let opening = Opening::new(&data, &keys);
        Ok(backup::newest_good(&data.join("backups"), &opening).map(|(path, info)| RecoveryOffer {
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
    let data = state.data_dir()?;
    let found = data.clone();
    let newest = blocking(move || {
        let keys = Keys::system();
        Ok(backup::newest_good(&found.join("backups"), &Opening::new(&found, &keys)))
    })
    .await?;
    let (file, _) = newest
        .ok_or_else(|| Error::BackupInvalid("no automatic backup checks out".into()).to_body())?;
    restore(app, file, None, None, false).await
}

fn needs_recovery(state: &AppState) -> bool {
    match state.directory() {
        Err(_) => true,
        Ok(dir) => !dir.is_set_up().unwrap_or(true),
    }
}

/// Closes the store, restores `file` into its place and opens the restored one, off the UI
/// thread.
async fn restore(
    app: tauri::AppHandle,
    file: PathBuf,
    right: Option<RestoreRight>,
    passphrase: Option<String>,
    accept_unencrypted: bool,
) -> Result<Restored, ErrorBody> {
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        let data = state.data_dir()?;
        let keys = Keys::system();
        let opening = Opening {
            passphrase: passphrase.as_deref(),
            accept_unencrypted,
            ..Opening::new(&data, &keys)
        };
        // Checked in full while the store is still open: a wrong passphrase or a damaged file
        // is refused without closing anything, and the person stays signed in.
        let current = right.as_ref().and_then(RestoreRight::current);
        backup::check(&file, &Opening { current, ..opening }).map_err(|e| e.to_body())?;
        let restored = state.reopen_after(|store| {
            // Without an Owner's right, the backup's own key is one only over a store that
            // cannot be used, judged here, with the app's handle on it closed.
            let right = match right {
                Some(right) => right,
                None => RestoreRight::store_unusable(store)?,
            };
            backup::restore(&file, store, &right, &opening)
        });
        if restored.is_ok() {
            automatic_backup(&app);
        }
        restored
    })
    .await
    .map_err(|_| Error::Internal("the restore").to_body())?
}

/// Opens, in the system's file manager, the data folder where a restore kept the store it
/// replaced (`Restored.kept`): only a folder named `store.replaced-…` directly in the data
/// folder; anything else is refused with `file_error` and nothing is opened.
#[tauri::command]
#[specta::specta]
pub async fn show_kept_aside(state: State<'_, AppState>, kept: String) -> Result<(), ErrorBody> {
    let data = state.data_dir()?;
    let path = kept_aside(&data, &kept).ok_or_else(|| {
        ErrorBody::new(
            gatehouse_core::ErrorCode::FileError,
            "That is not a folder a restore kept aside in Gatehouse's data folder.",
        )
    })?;
    reveal(&path).map_err(|e| {
        ErrorBody::new(
            gatehouse_core::ErrorCode::FileError,
            format!("The file manager could not be opened: {e}"),
        )
    })
}

/// `kept` when it is a folder a restore moved aside (`store.replaced-…`) directly in `data`.
pub fn kept_aside(data: &std::path::Path, kept: &str) -> Option<PathBuf> {
    let path = PathBuf::from(kept);
    let name = path.file_name()?.to_str()?;
    let beside = path.parent() == Some(data) && name.starts_with("store.replaced-");
    (beside && path.is_dir()).then_some(path)
}

/// Shows `path` in the system's file manager: selected where the platform can (Windows,
/// macOS), its folder opened otherwise.
fn reveal(path: &std::path::Path) -> std::io::Result<()> {
    use std::process::Stdio;
    let mut command = crate::shell::file_manager();
    if cfg!(target_os = "windows") {
        command.arg(format!("/select,{}", path.display()));
    } else if cfg!(target_os = "macos") {
        command.arg("-R").arg(path);
    } else {
        command.arg(path.parent().unwrap_or(path));
    }
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().map(drop)
}

#[cfg(test)]
mod tests {
    use super::kept_aside;

    #[test]
    fn only_a_folder_kept_aside_by_a_restore_in_the_data_folder_is_shown() {
        let data = tempfile::tempdir().expect("data folder");
        let kept = data.path().join("store.replaced-20261206T085313.650");
        std::fs::create_dir(&kept).expect("kept folder");
        std::fs::create_dir(data.path().join("store")).expect("store");
        let as_text = |p: &std::path::Path| p.to_string_lossy().into_owned();
        assert_eq!(kept_aside(data.path(), &as_text(&kept)), Some(kept.clone()));
        // The store itself, a folder elsewhere, a file, a path that climbs out: refused.
        assert_eq!(kept_aside(data.path(), &as_text(&data.path().join("store"))), None);
        let elsewhere = tempfile::tempdir().expect("elsewhere");
        let other = elsewhere.path().join("store.replaced-1");
        std::fs::create_dir(&other).expect("other");
        assert_eq!(kept_aside(data.path(), &as_text(&other)), None);
        let file = data.path().join("store.replaced-file");
        std::fs::write(&file, b"x").expect("file");
        assert_eq!(kept_aside(data.path(), &as_text(&file)), None);
        let climbing =
            format!("{}/store/../store.replaced-20261206T085313.650", as_text(data.path()));
        assert_eq!(kept_aside(data.path(), &climbing), None);
        assert_eq!(kept_aside(data.path(), "store.replaced-20261206T085313.650"), None);
    }
}
