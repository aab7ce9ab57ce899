//! The app's identity around the window: logs in the OS log folder (rotated daily, a week
//! kept), the menu with the About box and "Show logs", one instance at a time, and the
//! window's size and position kept between runs.

use crate::events::AlreadyRunning;
use std::sync::atomic::{AtomicU64, Ordering};
use tauri::menu::{
    AboutMetadataBuilder, MenuBuilder, MenuItemBuilder, PredefinedMenuItem, SubmenuBuilder,
};
use tauri::plugin::TauriPlugin;
use tauri::{App, AppHandle, Manager, Wry};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};
use tauri_specta::Event;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The page runs without JavaScriptCore's just-in-time compilers (Linux, where the page is
/// WebKitGTK's): JavaScriptCore then makes no memory both writable and executable, as in
/// WebKit's Lockdown Mode, and the page holds less (20-40 MB less after the Users list is
/// scrolled end to end, BENCHMARKS.md). The page is Gatehouse's own few hundred kilobytes of
/// code, which the interpreter runs within the keystroke budget. WebKit's processes inherit
/// the app's environment, so this runs first thing, before a thread or a web process has
/// started.
pub fn web_page_without_jit() {
    #[cfg(target_os = "linux")]
    std::env::set_var(WITHOUT_JIT, "false");
}

const WITHOUT_JIT: &str = "JSC_useJIT";

/// The system's file manager (`explorer`, `open` or `xdg-open`), to be given what to show:
/// started without the app's own setting for its page, which is no business of the person's.
pub fn file_manager() -> std::process::Command {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    system_command(program)
}

fn system_command(program: &str) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command.env_remove(WITHOUT_JIT);
    command
}

/// Keeps the log writer's background thread alive for as long as the app runs.
pub struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

/// Logs to stderr and to `gatehouse.log.<date>` in the OS log folder (on Linux
/// `~/.local/share/app.gatehouse.desktop/logs`), keeping the last 7 days.
pub fn init_logging(app: &App) {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = fmt::layer().with_writer(std::io::stderr).with_filter(filter());
    let file = app.path().app_log_dir().ok().and_then(|dir| {
        // Private like the data folder (on Linux it is inside it): a log names users.
        gatehouse_core::files::private_dir(&dir).ok()?;
        gatehouse_core::files::tighten(&dir).ok()?;
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("gatehouse")
            .filename_suffix("log")
            .max_log_files(7)
            .build(&dir)
            .ok()
    });
    match file {
        Some(appender) => {
            // The writer's queue is allocated whole when it is made: 128,000 lines (4 MB
            // resident) as tracing-appender comes. The app logs a few lines per action; a full
            // queue makes the next line wait for the disk rather than dropping it.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(1024)
                .lossy(false)
                .finish(appender);
            let file = fmt::layer().with_writer(writer).with_ansi(false).with_filter(filter());
            let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
            app.manage(LogGuard(guard));
        }
        None => {
            let _ = tracing_subscriber::registry().with(stderr).try_init();
        }
    }
}

/// The menu: Gatehouse › About Gatehouse, Show logs, Quit; then the keyboard shortcuts' menus.
pub fn install_menu(app: &App) -> tauri::Result<()> {
    let about = AboutMetadataBuilder::new()
        .name(Some("Gatehouse"))
        .version(Some(env!("CARGO_PKG_VERSION")))
        .comments(Some("Who may do what in a small organization, offline."))
        .license(Some("MIT"))
        .icon(app.default_window_icon().cloned())
        .build();
    let menu = SubmenuBuilder::new(app, "Gatehouse")
        .item(&PredefinedMenuItem::about(app, Some("About Gatehouse"), Some(about))?)
        .separator()
        .item(&MenuItemBuilder::with_id("show-logs", "Show logs").build(app)?)
        .separator()
        .item(&PredefinedMenuItem::quit(app, Some("Quit Gatehouse"))?)
        .build()?;
    let [users, go, help] = crate::shortcuts::submenus(app)?;
    let bar = MenuBuilder::new(app).item(&menu).item(&users).item(&go).item(&help).build()?;
    app.set_menu(bar)?;
    app.on_menu_event(|app, event| {
        if event.id() == "show-logs" {
            show_logs(app);
        }
        crate::shortcuts::chosen(app, event.id().as_ref());
    });
    Ok(())
}

/// Opens the log folder in the system's file manager.
fn show_logs(app: &AppHandle) {
    let Ok(dir) = app.path().app_log_dir() else { return };
    let _ = gatehouse_core::files::private_dir(&dir);
    if let Err(e) = file_manager().arg(&dir).spawn() {
        tracing::warn!("cannot open {}: {e}", dir.display());
    }
}

/// A second launch of Gatehouse asked for the running one: bring its window to the front and
/// tell the window why.
pub fn focus_main(app: &AppHandle) {
    tracing::info!("Gatehouse was launched again: bringing its window to the front");
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    let _ = AlreadyRunning.emit(app);
}

/// The window's size, position and maximized state, restored at start from the app's config
/// folder (`.window-state.json`).
pub fn window_state() -> TauriPlugin<Wry> {
    tauri_plugin_window_state::Builder::default()
        .with_state_flags(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED)
        .build()
}

static WINDOW_MOVES: AtomicU64 = AtomicU64::new(0);

/// Saves the window's state half a second after it stops moving or resizing, so that it is
/// kept however the app ends (the plugin alone saves only on a clean exit).
///
/// The save runs on the main thread: the plugin holds its state's lock while it asks the
/// window for its size, and the window answers from the main thread, whose own handler of a
/// move or resize waits for that lock. Saved from another thread, a window moved meanwhile
/// deadlocked the app (seen in the end-to-end identity test under load).
pub fn save_window_state_soon(app: &AppHandle) {
    let ticket = WINDOW_MOVES.fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if WINDOW_MOVES.load(Ordering::SeqCst) != ticket {
            return;
        }
        let handle = app.clone();
        let saved = app.run_on_main_thread(move || {
            if let Err(e) = handle.save_window_state(StateFlags::all()) {
                tracing::warn!("saving the window's size and position: {e}");
            }
        });
        if let Err(e) = saved {
            tracing::warn!("saving the window's size and position: {e}");
        }
    });
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_program_started_for_the_person_does_not_inherit_the_pages_setting() {
        // As the app sets it for its page (on Linux; here on every Unix, for the check).
        std::env::set_var(WITHOUT_JIT, "false");
        let out = system_command("env").output().expect("run env");
        let listed = String::from_utf8_lossy(&out.stdout);
        assert!(listed.contains("PATH="), "env listed its environment: {listed}");
        assert!(!listed.contains(WITHOUT_JIT), "{listed}");
        // Without the removal, the program would have seen it.
        let plain = std::process::Command::new("env").output().expect("run env");
        assert!(String::from_utf8_lossy(&plain.stdout).contains("JSC_useJIT=false"));
    }
}
