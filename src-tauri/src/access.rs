//! The hourly enforcement of end dates and the dormant-account rule while the app runs
//! (domain.md "Access governance"; core also runs it when the store opens and at each
//! sign-in). Who is deactivated, and why, is core's: this only keeps the clock.

use crate::events::AccessEnded;
use crate::state::AppState;
use std::time::Duration;
use tauri::Manager;
use tauri_specta::Event;

const EVERY: Duration = Duration::from_secs(60 * 60);

pub fn start(app: tauri::AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut hourly = tokio::time::interval(EVERY);
        hourly.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        hourly.tick().await; // the first tick is now: core enforced when the store opened
        loop {
            hourly.tick().await;
            // Taken afresh each hour, never held between: a restore must be able to close it.
            let Ok(dir) = app.state::<AppState>().directory() else { continue };
            match tauri::async_runtime::spawn_blocking(move || dir.enforce_access()).await {
                Ok(Ok(ended)) if ended.is_empty() => {}
                Ok(Ok(ended)) => {
                    tracing::info!("access ended for {} user(s)", ended.len());
                    let users = u32::try_from(ended.len()).unwrap_or(u32::MAX);
                    let _ = AccessEnded { users }.emit(&app);
                }
                Ok(Err(e)) => tracing::error!("enforcing end dates and dormancy: {e}"),
                Err(e) => tracing::error!("enforcing end dates and dormancy: {e}"),
            }
        }
    });
}
