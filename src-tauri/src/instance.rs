//! One Gatehouse per data folder. On Linux and macOS a second launch finds the running app
//! through a Unix socket in the data folder, asks it to come to the front, and exits before it
//! opens a window or the store: a socket costs a few microseconds where a D-Bus connection
//! cost 70 ms of every start. Windows uses tauri-plugin-single-instance.

use tauri::plugin::TauriPlugin;
use tauri::Wry;

#[cfg(unix)]
pub fn plugin() -> TauriPlugin<Wry> {
    tauri::plugin::Builder::new("gatehouse-instance")
        .setup(|app, _api| {
            let Ok(data) = crate::data_dir(app) else { return Ok(()) };
            let socket = data.join(unix::SOCKET);
            if unix::hand_over(&socket) {
                tracing::info!("Gatehouse is already running: it was asked to come forward");
                app.cleanup_before_exit();
                std::process::exit(0);
            }
            unix::listen(app.clone(), &data, &socket);
            Ok(())
        })
        .build()
}

#[cfg(not(unix))]
pub fn plugin() -> TauriPlugin<Wry> {
    tauri_plugin_single_instance::init(|app, _args, _cwd| crate::shell::focus_main(app))
}

#[cfg(unix)]
mod unix {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::Path;
    use std::time::Duration;
    use tauri::AppHandle;

    pub const SOCKET: &str = "gatehouse.sock";
    const REQUEST: &str = "come forward\n";

    /// Asks the app listening on `socket` to come forward; whether one answered.
    pub fn hand_over(socket: &Path) -> bool {
        let Ok(mut stream) = UnixStream::connect(socket) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        if stream.write_all(REQUEST.as_bytes()).is_err() {
            return false;
        }
        // An app that accepted the connection is running, answered or not.
        let mut answer = String::new();
        let _ = BufReader::new(stream).read_line(&mut answer);
        true
    }

    /// Listens on `socket` for later launches. A socket left by an app that ended without
    /// cleaning up answers nobody: it is replaced.
    pub fn listen(app: AppHandle, data: &Path, socket: &Path) {
        let _ = std::fs::create_dir_all(data);
        let _ = std::fs::remove_file(socket);
        let listener = match UnixListener::bind(socket) {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!("a second launch will open another window: {e}");
                return;
            }
        };
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = String::new();
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = BufReader::new(&stream).read_line(&mut request);
                if request == REQUEST {
                    crate::shell::focus_main(&app);
                    let _ = stream.write_all(b"ok\n");
                }
            }
        });
    }
}
