use gatehouse_core::{Directory, Error, ErrorBody, ErrorCode, SessionId, SystemClock};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tauri::State;

/// The app's state: the open directory (or why it could not be opened) and the handle of the
/// window's signed-in session, which never leaves this process.
pub struct AppState {
    dir: Result<Arc<Directory>, ErrorBody>,
    session: Mutex<Option<SessionId>>,
}

impl AppState {
    pub fn open(data_dir: Result<PathBuf, String>) -> Self {
        let dir = data_dir
            .map_err(|e| {
                tracing::error!("no data directory: {e}");
                ErrorBody {
                    code: ErrorCode::Internal,
                    message: "Gatehouse could not find a folder to keep its data in.".into(),
                }
            })
            .and_then(|path| {
                std::fs::create_dir_all(&path).map_err(|e| {
                    tracing::error!("creating {}: {e}", path.display());
                    ErrorBody {
                        code: ErrorCode::Internal,
                        message: format!(
                            "Gatehouse could not create its data folder {}.",
                            path.display()
                        ),
                    }
                })?;
                tracing::info!("store: {}", path.display());
                Directory::open(&path, Arc::new(SystemClock)).map(Arc::new).map_err(|e| e.to_body())
            });
        Self { dir, session: Mutex::new(None) }
    }

    pub fn directory(&self) -> Result<Arc<Directory>, ErrorBody> {
        self.dir.clone()
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
