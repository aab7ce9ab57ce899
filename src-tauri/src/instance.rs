//! One Gatehouse per data folder. On Linux and macOS a second launch finds the running app
//! through a Unix socket in the data folder, asks it to come to the front, and exits before it
//! opens a window or the store: a socket costs a few microseconds where a D-Bus connection
//! cost 70 ms of every start. Windows uses tauri-plugin-single-instance.

use tauri::plugin::TauriPlugin;
use tauri::Wry;

/// Before Tauri starts: asks the app already running on this data folder, if any, to come
/// forward; whether one answered (this launch then ends by returning from `main`). It runs
/// before any thread exists: exiting from Tauri's setup instead, with GTK's and D-Bus's
/// threads running, now and then crashed the exiting launch (SIGSEGV, seen under load in the
/// end-to-end identity test). The plugin below still hands over when the running app bound
/// its socket only after this look.
#[cfg(unix)]
pub fn handed_over_at_start() -> bool {
    /// tauri.conf.json's identifier, which names Tauri's app-data folder.
    const IDENTIFIER: &str = "app.gatehouse.desktop";
    let data = match std::env::var_os("GATEHOUSE_DATA_DIR") {
        Some(dir) if !dir.is_empty() => std::path::PathBuf::from(dir),
        _ => match dirs::data_dir() {
            Some(dir) => dir.join(IDENTIFIER),
            None => return false,
        },
    };
    unix::hand_over(&data.join(unix::SOCKET))
}

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
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::Path;
    use std::time::{Duration, Instant};
    use tauri::AppHandle;

    pub const SOCKET: &str = "gatehouse.sock";
    const REQUEST: &str = "come forward\n";
    /// The longest request line the listener reads: anything longer is no later launch.
    pub const MAX_REQUEST: usize = 64 * 1024;
    /// How long the listener waits for a whole request, however the peer trickles it.
    const REQUEST_WITHIN: Duration = Duration::from_secs(2);

    /// Reads one request line: at most [`MAX_REQUEST`] bytes, within `within` in all, so that
    /// a peer that sends nothing, or never ends its line, cannot hold the listener (which
    /// serves one connection at a time) or fill the app's memory.
    pub fn read_request(stream: &UnixStream, within: Duration) -> std::io::Result<String> {
        use std::io::{Error, ErrorKind};
        let deadline = Instant::now() + within;
        let mut line = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(ErrorKind::TimedOut, "no whole request in time"));
            }
            stream.set_read_timeout(Some(left))?;
            let n = (&*stream).read(&mut buf)?;
            line.extend_from_slice(&buf[..n]);
            if let Some(end) = line.iter().position(|b| *b == b'\n') {
                line.truncate(end + 1);
                break;
            }
            if line.len() > MAX_REQUEST {
                return Err(Error::new(
                    ErrorKind::InvalidData,
                    format!("a request longer than {} KiB", MAX_REQUEST / 1024),
                ));
            }
            if n == 0 {
                break; // the peer closed without ending its line
            }
        }
        String::from_utf8(line).map_err(|e| Error::new(ErrorKind::InvalidData, e))
    }

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
        let _ = gatehouse_core::files::private_dir(data);
        let _ = std::fs::remove_file(socket);
        let listener = match UnixListener::bind(socket) {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!("a second launch will open another window: {e}");
                return;
            }
        };
        // The process umask already leaves it the user's alone; 0600 like every other file.
        let _ = gatehouse_core::files::tighten(socket);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let request = match read_request(&stream, REQUEST_WITHIN) {
                    Ok(request) => request,
                    Err(e) => {
                        tracing::warn!("ignoring a connection to the instance socket: {e}");
                        continue;
                    }
                };
                if request == REQUEST {
                    crate::shell::focus_main(&app);
                    let _ = stream.write_all(b"ok\n");
                }
            }
        });
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::unix::{read_request, MAX_REQUEST};
    use std::io::{ErrorKind, Write};
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    #[test]
    fn a_request_line_is_read_whole() {
        let (mut peer, stream) = UnixStream::pair().unwrap();
        peer.write_all(b"come forward\nand more").unwrap();
        assert_eq!(read_request(&stream, Duration::from_secs(2)).unwrap(), "come forward\n");
    }

    #[test]
    fn a_peer_that_sends_nothing_is_let_go_after_the_deadline() {
        let (_peer, stream) = UnixStream::pair().unwrap();
        let started = Instant::now();
        let err = read_request(&stream, Duration::from_millis(200)).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_trickling_peer_is_let_go_at_the_deadline_in_all() {
        let (mut peer, stream) = UnixStream::pair().unwrap();
        let trickle = std::thread::spawn(move || {
            for _ in 0..40 {
                if peer.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let started = Instant::now();
        assert!(read_request(&stream, Duration::from_millis(300)).is_err());
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        drop(stream);
        trickle.join().unwrap();
    }

    #[test]
    fn a_line_longer_than_the_cap_is_refused_naming_it() {
        let (mut peer, stream) = UnixStream::pair().unwrap();
        let flood = std::thread::spawn(move || {
            let _ = peer.write_all(&vec![b'x'; MAX_REQUEST * 4]);
        });
        let err = read_request(&stream, Duration::from_secs(5)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.to_string().contains("64 KiB"), "{err}");
        drop(stream);
        flood.join().unwrap();
    }
}
