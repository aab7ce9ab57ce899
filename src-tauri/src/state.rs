use crate::secrets::SmtpPassword;
use gatehouse_core::backup::Restored;
use gatehouse_core::{Directory, Error, ErrorBody, ErrorCode, SessionId, SystemClock};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use tauri::State;

/// The app's state: the open directory (or why it could not be opened), the data folder it
/// lives in, and the handle of the window's signed-in session, which never leaves this process.
pub struct AppState {
    /// The data folder: the store is `store/` in it, automatic backups `backups/`.
    data: Option<PathBuf>,
    dir: RwLock<Result<Arc<Directory>, ErrorBody>>,
    session: Mutex<Option<SessionId>>,
    /// A CSV file chosen for import, kept here between the preview and the import so that
    /// the window never names a file path itself.
    pending_import: Mutex<Option<Vec<u8>>>,
    /// A backup file chosen for a restore or a comparison, kept here for the same reason.
    chosen_backup: Mutex<Option<PathBuf>>,
    /// Why the last automatic backup could not be made.
    backup_problem: Mutex<Option<String>>,
    /// The SMTP password, as this run knows it.
    pub password: SmtpPassword,
    /// Wakes the background sender when a message is queued or settings change.
    pub courier: tokio::sync::Notify,
}

fn unavailable(message: String) -> ErrorBody {
    ErrorBody::new(ErrorCode::Internal, message)
}

impl AppState {
    pub fn open(data_dir: Result<PathBuf, String>) -> Self {
        let data = data_dir.map_err(|e| tracing::error!("no data directory: {e}")).ok();
        let dir = match &data {
            None => {
                Err(unavailable("Gatehouse could not find a folder to keep its data in.".into()))
            }
            Some(path) => open_store(path),
        };
        Self {
            data,
            dir: RwLock::new(dir),
            session: Mutex::new(None),
            pending_import: Mutex::new(None),
            chosen_backup: Mutex::new(None),
            backup_problem: Mutex::new(None),
            password: SmtpPassword::default(),
            courier: tokio::sync::Notify::new(),
        }
    }

    pub fn directory(&self) -> Result<Arc<Directory>, ErrorBody> {
        self.dir.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The data folder, when there is one.
    pub fn data_dir(&self) -> Result<PathBuf, ErrorBody> {
        self.data.clone().ok_or_else(|| {
            unavailable("Gatehouse could not find a folder to keep its data in.".into())
        })
    }

    /// Closes the store, runs `replace` on its folder (a restore), and opens it again. Every
    /// session ends: the restored store has its own users.
    pub fn reopen_after(
        &self,
        replace: impl FnOnce(&std::path::Path) -> gatehouse_core::Result<Restored>,
    ) -> Result<Restored, ErrorBody> {
        let data = self.data_dir()?;
        let mut slot = self.dir.write().unwrap_or_else(|p| p.into_inner());
        let closing = std::mem::replace(&mut *slot, Err(Error::StoreLocked.to_body()));
        if let Ok(dir) = closing {
            // Commands in flight hold the directory for a moment; wait for them to finish so
            // that the store's files are closed before they are moved.
            let mut dir = dir;
            for _ in 0..200 {
                match Arc::try_unwrap(dir) {
                    Ok(only) => {
                        drop(only);
                        break;
                    }
                    Err(shared) => {
                        dir = shared;
                        std::thread::sleep(std::time::Duration::from_millis(25));
                    }
                }
            }
        }
        let result = replace(&data.join("store")).map_err(|e| e.to_body());
        *slot = open_store(&data);
        // The store was closed: every session ended with it (cleared only now, so that the
        // window's liveness check, which meets a closed store meanwhile, does not lock it).
        self.set_session(None);
        result
    }

    pub fn take_import(&self) -> Option<Vec<u8>> {
        self.pending_import.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// The file chosen for import, kept for the import itself.
    pub fn peek_import(&self) -> Option<Vec<u8>> {
        self.pending_import.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn keep_import(&self, bytes: Vec<u8>) {
        *self.pending_import.lock().unwrap_or_else(|p| p.into_inner()) = Some(bytes);
    }

    pub fn chosen_backup(&self) -> Option<PathBuf> {
        self.chosen_backup.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn keep_backup(&self, file: PathBuf) {
        *self.chosen_backup.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
    }

    pub fn backup_problem(&self) -> Option<String> {
        self.backup_problem.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_backup_problem(&self, problem: Option<String>) {
        *self.backup_problem.lock().unwrap_or_else(|p| p.into_inner()) = problem;
    }

    pub fn session(&self) -> Result<SessionId, ErrorBody> {
        self.lock().ok_or_else(|| Error::NotSignedIn.to_body())
    }

    pub fn set_session(&self, session: Option<SessionId>) {
        *self.lock() = session;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SessionId>> {
        self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Opens the store in `data/store`, creating the folders on first use; the data folder is
/// made private first (0700, everything in it tightened to 0700 and 0600).
fn open_store(data: &std::path::Path) -> Result<Arc<Directory>, ErrorBody> {
    let path = gatehouse_core::files::prepare_data_folder(data).map_err(|e| {
        tracing::error!("preparing {}: {e}", data.display());
        match e.code() {
            // The store folder is gone from a folder that held an organization: its sentence,
            // and the screen offers the newest backup.
            gatehouse_core::ErrorCode::StoreBehind => e.to_body(),
            _ => unavailable(format!(
                "Gatehouse could not create its data folder {}.",
                data.display()
            )),
        }
    })?;
    tracing::info!("store: {}", path.display());
    // After a restore this process has just closed the store: wait for sled to let it go.
    Directory::open_settled(&path, Arc::new(SystemClock)).map(Arc::new).map_err(|e| e.to_body())
}

/// Runs a core call off the UI thread (argon2 takes a tenth of a second by design).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> gatehouse_core::Result<T> + Send + 'static,
) -> Result<T, ErrorBody> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| {
            tracing::error!("background task failed: {e}");
            Error::Internal("a background task").to_body()
        })?
        .map_err(|e| e.to_body())
}

/// Runs a core call for the window's signed-in session, off the UI thread.
pub async fn signed_in<T: Send + 'static>(
    state: State<'_, AppState>,
    f: impl FnOnce(&Directory, SessionId) -> gatehouse_core::Result<T> + Send + 'static,
) -> Result<T, ErrorBody> {
    let (dir, session) = (state.directory()?, state.session()?);
    blocking(move || f(&dir, session)).await
}
