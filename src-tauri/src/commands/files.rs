//! Files the person chooses in native dialogs opened from Rust: the window never names a
//! path itself.

use gatehouse_core::{Error, ErrorBody};
use std::path::PathBuf;
use tauri_plugin_dialog::{DialogExt, FileDialogBuilder};

/// A path from a native file dialog (save or open), off the UI thread; `None` when cancelled.
pub async fn choose(
    dialog: FileDialogBuilder<tauri::Wry>,
    save: bool,
) -> Result<Option<PathBuf>, ErrorBody> {
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        if save {
            dialog.blocking_save_file()
        } else {
            dialog.blocking_pick_file()
        }
    })
    .await
    .map_err(|_| Error::Internal("the file dialog").to_body())?;
    match chosen {
        None => Ok(None),
        Some(path) => path.into_path().map(Some).map_err(|_| {
            Error::FileError("That location is not a file on this computer.".into()).to_body()
        }),
    }
}

/// Asks where to save `csv` (suggesting `name`) and writes it there atomically. Returns the
/// file's name, or `None` when cancelled.
pub async fn save_csv(
    app: &tauri::AppHandle,
    name: String,
    csv: String,
) -> Result<Option<String>, ErrorBody> {
    let dialog = app.dialog().file().set_file_name(name).add_filter("CSV", &["csv"]);
    let Some(path) = choose(dialog, true).await? else {
        return Ok(None);
    };
    gatehouse_core::files::write_atomically(&path, csv.as_bytes()).map_err(|e| e.to_body())?;
    Ok(Some(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()))
}
