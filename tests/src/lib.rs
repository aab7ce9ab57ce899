//! The harness for end-to-end tests: starts Xvfb and tauri-driver on free display and ports,
//! launches the real app binary on a fresh data directory through WebDriver, and stops
//! everything when dropped.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // test harness: fail loudly

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

pub const OWNER_EMAIL: &str = "olivia@acme.example";
pub const OWNER_PASSWORD: &str = "correct horse battery staple";

/// A running app in its own X display, with a WebDriver client attached.
pub struct App {
    pub client: Client,
    /// The X display the app runs on (for driving native dialogs with xdotool).
    pub display: String,
    shots: PathBuf,
    children: Vec<Child>,
    _data: tempfile::TempDir,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The binary under test: `GATEHOUSE_APP` or the workspace's debug build.
fn app_binary() -> PathBuf {
    let path = std::env::var_os("GATEHOUSE_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug/gatehouse"));
    assert!(path.exists(), "no app binary at {}: build it first (make e2e does)", path.display());
    path.canonicalize().expect("absolute app path")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start_xvfb() -> (Child, String) {
    for n in 90..200 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb (install the xvfb package)");
        let socket = format!("/tmp/.X11-unix/X{n}");
        wait_until("Xvfb", || Path::new(&socket).exists());
        return (child, display);
    }
    panic!("no free X display between :90 and :199");
}

impl App {
    /// Starts the app on a fresh, empty data directory. `suite` names the screenshot folder.
    pub async fn launch(suite: &str) -> App {
        let data = tempfile::tempdir().expect("data dir");
        let (xvfb, display) = start_xvfb();
        let (port, native_port) = (free_port(), free_port());
        let driver = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("DISPLAY", &display)
            .env("GATEHOUSE_DATA_DIR", data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start tauri-driver (cargo install tauri-driver --locked)");
        let mut children = vec![driver, xvfb];
        wait_until("tauri-driver", || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app_binary().to_string_lossy() }),
        );
        let client = match ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => client,
            Err(e) => {
                children.iter_mut().for_each(|c| drop(c.kill()));
                panic!("WebDriver session did not start: {e}");
            }
        };
        let shots = workspace_root().join("target/e2e-screenshots").join(suite);
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        App { client, display, shots, children, _data: data }
    }

    /// Waits for an element by its `data-testid`.
    pub async fn get(&self, testid: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&format!("[data-testid='{testid}']")))
            .await
            .unwrap_or_else(|e| panic!("no element [data-testid='{testid}']: {e}"))
    }

    /// Every element with this `data-testid` now.
    pub async fn all(&self, testid: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(&format!("[data-testid='{testid}']")))
            .await
            .expect("find")
    }

    pub async fn type_into(&self, testid: &str, text: &str) {
        let input = self.get(testid).await;
        input.clear().await.expect("clear");
        input.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, testid: &str) {
        self.get(testid).await.click().await.expect("click");
    }

    /// The element's rendered text (`innerText`), trimmed.
    pub async fn text(&self, testid: &str) -> String {
        let element = self.get(testid).await;
        let arg = serde_json::to_value(&element).expect("element reference");
        let text = self
            .client
            .execute("return arguments[0].innerText;", vec![arg])
            .await
            .expect("read text");
        text.as_str().unwrap_or_default().trim().to_string()
    }

    /// Completes first-run setup as Olivia, the Owner, and waits for the Users screen.
    pub async fn set_up_owner(&self) {
        self.get("setup-form").await;
        self.type_into("setup-org", "Acme Payments").await;
        self.type_into("setup-name", "Olivia Owner").await;
        self.type_into("setup-email", OWNER_EMAIL).await;
        self.type_into("setup-password", OWNER_PASSWORD).await;
        self.click("setup-submit").await;
        self.get("users-table").await;
    }

    /// Signs out, then in again with `email` and `password`.
    pub async fn sign_in_as(&self, email: &str, password: &str) {
        self.click("sign-out").await;
        self.type_into("signin-email", email).await;
        self.type_into("signin-password", password).await;
        self.click("signin-submit").await;
    }

    /// The row of the user with `email`, once it is listed.
    pub async fn row(&self, email: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&format!("tr[data-email='{email}']")))
            .await
            .unwrap_or_else(|e| panic!("no row for {email}: {e}"))
    }

    /// Opens the row menu of the user with `email` and picks `action` (e.g. `deactivate`).
    pub async fn row_action(&self, email: &str, action: &str) {
        let row = self.row(email).await;
        let menu = row.find(Locator::Css("[data-testid='user-actions']")).await.expect("row menu");
        menu.click().await.expect("open the row menu");
        self.click(&format!("action-{action}")).await;
    }

    /// Invites `email` with one role through the dialog and returns the code shown.
    pub async fn invite(&self, email: &str, role: &str) -> String {
        self.click("invite-open").await;
        self.type_into("invite-emails", email).await;
        self.click(&format!("invite-role-{role}")).await;
        self.click("invite-submit").await;
        let code = self.text("invite-code").await;
        self.click("invite-done").await;
        code
    }

    /// The rendered text of an element inside `within` found by `data-testid`.
    pub async fn text_in(&self, within: &Element, testid: &str) -> String {
        let element = within
            .find(Locator::Css(&format!("[data-testid='{testid}']")))
            .await
            .unwrap_or_else(|e| panic!("no [data-testid='{testid}'] in the element: {e}"));
        let arg = serde_json::to_value(&element).expect("element reference");
        let text =
            self.client.execute("return arguments[0].innerText;", vec![arg]).await.expect("text");
        text.as_str().unwrap_or_default().trim().to_string()
    }

    /// Waits until the element's text is `expected`.
    pub async fn wait_for_text(&self, testid: &str, expected: &str) {
        let start = Instant::now();
        while self.text(testid).await != expected {
            assert!(start.elapsed() < WAIT, "[data-testid='{testid}'] never read {expected:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until exactly `n` elements with this `data-testid` are present.
    pub async fn wait_for_count(&self, testid: &str, n: usize) {
        let start = Instant::now();
        while self.all(testid).await.len() != n {
            assert!(start.elapsed() < WAIT, "never {n} of [data-testid='{testid}']");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves through the native GTK save dialog once it is open: types `path` as the file
    /// name and presses Enter (xdotool on the app's X display).
    pub async fn save_in_native_dialog(&self, path: &Path) {
        let xdotool = |args: &[&str]| {
            Command::new("xdotool")
                .args(args)
                .env("DISPLAY", &self.display)
                .output()
                .expect("run xdotool (install the xdotool package)")
        };
        let start = Instant::now();
        let window = loop {
            let found = xdotool(&["search", "--name", "^Save File$"]);
            if let Some(id) = String::from_utf8_lossy(&found.stdout).lines().next() {
                break id.to_string();
            }
            assert!(start.elapsed() < WAIT, "the native save dialog did not open");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        xdotool(&["windowfocus", "--sync", &window]);
        xdotool(&["key", "--clearmodifiers", "ctrl+a"]);
        xdotool(&["type", "--delay", "5", &path.to_string_lossy()]);
        xdotool(&["key", "Return"]);
    }

    /// Saves a PNG of the window as `target/e2e-screenshots/<suite>/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        // WebKit snapshots the last painted frame: let the latest DOM changes paint first.
        let painted = "const done = arguments[0]; \
            requestAnimationFrame(() => requestAnimationFrame(() => done(true))); \
            setTimeout(() => done(false), 1000);";
        let _ = self.client.execute_async(painted, vec![]).await;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Ends the WebDriver session (which closes the app) and stops Xvfb and tauri-driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.stop();
    }

    fn stop(&mut self) {
        for child in &mut self.children {
            // SIGTERM first: tauri-driver then stops the WebKitWebDriver it started.
            let pid = Pid::from_raw(child.id() as i32);
            if signal::kill(pid, Signal::SIGTERM).is_ok() {
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(5)
                    && matches!(child.try_wait(), Ok(None))
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop();
    }
}
