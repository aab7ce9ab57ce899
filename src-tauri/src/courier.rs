//! The background sender: sends the outbox's due messages while the app runs, then sleeps
//! until the next one is due or a command wakes it. The rules (what is due, backoff, never
//! twice) are core's; this only keeps the loop.

use crate::events::OutboxChanged;
use crate::state::AppState;
use gatehouse_core::Directory;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tauri::Manager;
use tauri_specta::Event;

/// The longest sleep: a message queued by the command line is picked up within this.
const IDLE: Duration = Duration::from_secs(30);

pub fn start(app: tauri::AppHandle) {
    tauri::async_runtime::spawn(async move {
        // Weak: holding the directory would keep a restore from closing the store.
        let mut settled: Weak<Directory> = Weak::new();
        loop {
            let state = app.state::<AppState>();
            let wait = match state.directory() {
                Ok(dir) => {
                    if !Weak::ptr_eq(&settled, &Arc::downgrade(&dir)) {
                        // A new store (start, or after a restore): messages an earlier run
                        // left mid-send become Failed, never re-sent on their own.
                        if let Ok(n) = dir.settle_interrupted_sends() {
                            if n > 0 {
                                tracing::warn!("{n} message(s) were interrupted mid-send");
                            }
                        }
                        // The Outbox key from the credential store now, in the background,
                        // rather than under the writer lock at the first code issued.
                        let _ = dir.outbox_keeping();
                        settled = Arc::downgrade(&dir);
                    }
                    round(&app, &dir).await
                }
                Err(_) => IDLE,
            };
            let _ = tokio::time::timeout(wait, state.courier.notified()).await;
        }
    });
}

/// Sends what is due; returns how long to sleep.
async fn round(app: &tauri::AppHandle, dir: &Arc<Directory>) -> Duration {
    let settings = match dir.mail_settings() {
        Ok(Some(settings)) => settings,
        _ => return IDLE,
    };
    let needs_password = settings.needs_password();
    let password = {
        let app = app.clone();
        tauri::async_runtime::spawn_blocking(move || {
            app.state::<AppState>().password.get(&settings)
        })
        .await
        .ok()
        .flatten()
    };
    if needs_password && password.is_none() {
        return IDLE; // saving the password in Settings wakes the sender
    }
    match gatehouse_core::mail::deliver_due(dir, password.as_deref()).await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!("sent or tried {n} message(s)");
            let _ = OutboxChanged.emit(app);
        }
        Err(e) => tracing::error!("the outbox: {e}"),
    }
    let now = chrono::Utc::now();
    match dir.next_send_at() {
        Ok(Some(at)) if at > now => (at - now).to_std().unwrap_or(IDLE).min(IDLE),
        Ok(Some(_)) => Duration::from_secs(1),
        _ => IDLE,
    }
}
