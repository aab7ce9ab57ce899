//! What a person does in the window, step by step: set up, sign in, invite, use a row's menu,
//! answer a native file dialog.

use crate::window::{answered, in_row, testid};
use crate::{patience, App, OWNER_EMAIL, OWNER_PASSWORD};
use fantoccini::elements::Element;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

impl App {
    /// Completes first-run setup as Olivia, the Owner, keeps her recovery kit (shown right
    /// after setup), and waits for the Users screen. Returns the kit's recovery codes.
    pub async fn set_up_owner(&self) -> Vec<String> {
        self.get("setup-form").await;
        self.type_into("setup-org", "Acme Payments").await;
        self.type_into("setup-name", "Olivia Owner").await;
        self.type_into("setup-email", OWNER_EMAIL).await;
        self.type_into("setup-password", OWNER_PASSWORD).await;
        self.click("setup-submit").await;
        self.get("recovery-kit").await;
        let codes = self.recovery_codes().await;
        self.confirm_codes_saved().await;
        self.get("users-table").await;
        codes
    }

    /// The recovery codes on screen now (the Owner's kit, or a new set), once all ten are shown.
    pub async fn recovery_codes(&self) -> Vec<String> {
        self.get("recovery-codes").await;
        self.wait_for_count("recovery-code", 10).await;
        self.texts(&testid("recovery-code")).await
    }

    /// Says the recovery codes on screen are saved, and goes on.
    pub async fn confirm_codes_saved(&self) {
        self.click("recovery-saved").await;
        self.click("recovery-done").await;
    }

    /// After signing in as an Owner who may hold no recovery kit yet (one set up by the
    /// command line, or a seeded store): keeps the kit if its screen comes, then waits for the
    /// element `then`.
    pub async fn pass_recovery_kit(&self, then: &str) {
        let which = "return document.querySelector(\"[data-testid='recovery-saved']\") ? 'kit' \
            : document.querySelector(`[data-testid='${arguments[0]}']`) ? 'then' : null;";
        let (start, within) = (Instant::now(), patience::step());
        loop {
            let seen = answered(self.client.execute(which, vec![then.into()])).await.ok();
            match seen.as_ref().and_then(|v| v.as_str()) {
                Some("kit") => {
                    self.confirm_codes_saved().await;
                    self.get(then).await;
                    return;
                }
                Some(_) => return,
                None if start.elapsed() > within => {
                    self.fail(&format!("neither the recovery kit nor [data-testid='{then}']")).await
                }
                None => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Opens Settings and waits until each of its sections has read what it shows. Sections
    /// that load push the ones below them down the page: a click on a button down there
    /// before they are done lands where the button was (it missed Restore under load).
    pub async fn open_settings(&self) {
        self.click("nav-settings").await;
        self.get("sign-in-rules").await;
        self.get("access-governance").await;
        let read = |t: &str| !t.starts_with("Reading");
        self.wait_for_text_where("email-state", "the email settings read", read).await;
        self.wait_for_text_where("backup-status", "the backups folder read", read).await;
    }

    /// Signs in from the sign-in screen (nobody signed in).
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.type_into("signin-email", email).await;
        self.type_into("signin-password", password).await;
        self.click("signin-submit").await;
    }

    /// Runs `script` in the window and returns its result.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        answered(self.client.execute(script, vec![]))
            .await
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Signs out, then in again with `email` and `password`.
    pub async fn sign_in_as(&self, email: &str, password: &str) {
        self.click("sign-out").await;
        self.sign_in(email, password).await;
    }

    /// The row of the user with `email`, once it is listed.
    pub async fn row(&self, email: &str) -> Element {
        self.wait_for_css(&format!("tr[data-email='{email}']")).await
    }

    /// Waits until the Users list shows exactly the users `expected` (emails, sorted).
    pub async fn wait_for_listed(&self, expected: &[&str]) {
        let (start, within) = (Instant::now(), patience::step());
        loop {
            let mut listed = self.attrs(&testid("user-row"), "data-email").await;
            listed.sort();
            if listed == expected {
                return;
            }
            if start.elapsed() > within {
                self.fail(&format!("the list shows {listed:?}, not {expected:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens the row menu of the user with `email` and picks `action` (e.g. `deactivate`).
    pub async fn row_action(&self, email: &str, action: &str) {
        self.click_css(&in_row(email, "user-actions")).await;
        self.click(&format!("action-{action}")).await;
    }

    /// The items the row menu of the user with `email` offers (their `data-testid`s, in
    /// order), leaving the menu open; empty when the row has no menu at all (core allows
    /// nothing on that user). The row's menu comes with the row, in the same answer from core.
    pub async fn row_menu(&self, email: &str) -> Vec<String> {
        self.row(email).await;
        let menus = self.attrs(&in_row(email, "user-actions"), "data-testid").await;
        if menus.is_empty() {
            return Vec::new();
        }
        self.click_css(&in_row(email, "user-actions")).await;
        let items = "[role='menu'] [role='menuitem']";
        self.wait_for_css(items).await;
        self.attrs(items, "data-testid").await
    }

    /// Opens the detail panel of the user with `email` from their row.
    pub async fn open_detail(&self, email: &str) {
        self.click_css(&in_row(email, "user-open")).await;
        self.wait_for_text("detail-email", email).await;
    }

    /// From the sign-in screen: accepts the invitation for `email` with `code`, as `name` with
    /// `password`, and waits until the new user is signed in.
    pub async fn accept_invitation(&self, email: &str, code: &str, name: &str, password: &str) {
        self.click("have-invitation").await;
        self.type_into("invitation-email", email).await;
        self.type_into("invitation-code", code).await;
        self.type_into("invitation-name", name).await;
        self.type_into("invitation-password", password).await;
        self.click("invitation-submit").await;
        self.get("sign-out").await;
    }

    /// Invites `email` with one role through the dialog and returns the code shown.
    pub async fn invite(&self, email: &str, role: &str) -> String {
        self.click("invite-open").await;
        self.type_into("invite-emails", email).await;
        self.click(&format!("invite-role-{role}")).await;
        self.click("invite-submit").await;
        let code = self.text("invite-code").await;
        self.leave_codes("invite-done").await;
        code
    }

    /// Clicks `done` in a dialog showing one-time codes not copied or saved, which then asks
    /// first, and goes on without them.
    pub async fn leave_codes(&self, done: &str) {
        self.click(done).await;
        self.get("codes-ask").await;
        self.click("codes-ask-proceed").await;
    }

    /// The text of the file at `path` once the app has written it.
    pub async fn saved_file(&self, path: &Path) -> String {
        let (start, within) = (Instant::now(), patience::step());
        while !path.exists() {
            if start.elapsed() > within {
                self.fail(&format!("{} was never written", path.display())).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        std::fs::read_to_string(path).expect("read the saved file")
    }

    /// Saves through the native GTK save dialog once it is open: types `path` as the file
    /// name and presses Enter (xdotool on the app's X display).
    pub async fn save_in_native_dialog(&self, path: &Path) {
        self.native_dialog("^Save File$", path, "ctrl+a").await;
    }

    /// Chooses `path` in the native (GTK) open-file dialog the app opened.
    pub async fn open_in_native_dialog(&self, path: &Path) {
        self.native_dialog("^Open File$", path, "ctrl+l").await;
    }

    /// Types `path` into the GTK file dialog titled `title` (after `select` selects the name
    /// or opens the location field) and confirms; starts over while the dialog stays open.
    async fn native_dialog(&self, title: &str, path: &Path, select: &str) {
        // Each call has a deadline: `windowfocus --sync` waits for the focus, without one.
        let xdotool = |args: &[&str]| {
            Command::new("timeout")
                .args(["10s", "xdotool"])
                .args(args)
                .env("DISPLAY", &self.display)
                .output()
                .expect("run xdotool (install the xdotool package)")
        };
        // Only a mapped dialog can take the focus: GTK creates the window before showing it.
        let shown = || {
            let found = xdotool(&["search", "--onlyvisible", "--name", title]);
            String::from_utf8_lossy(&found.stdout).lines().next().map(str::to_string)
        };
        let (start, within) = (Instant::now(), patience::step());
        loop {
            let window = loop {
                if let Some(id) = shown() {
                    break id;
                }
                assert!(start.elapsed() < within, "the native dialog {title} did not open");
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            tokio::time::sleep(Duration::from_millis(300)).await;
            xdotool(&["windowfocus", "--sync", &window]);
            xdotool(&["key", "--clearmodifiers", select]);
            xdotool(&["key", "--clearmodifiers", "ctrl+a"]);
            tokio::time::sleep(Duration::from_millis(200)).await;
            xdotool(&["type", "--delay", "5", &path.to_string_lossy()]);
            // The open dialog's location field may take the first Return for its completion:
            // press it until the dialog is gone.
            for _ in 0..5 {
                if shown().is_none() {
                    return;
                }
                xdotool(&["key", "--window", &window, "Return"]);
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            assert!(start.elapsed() < within, "the native dialog {title} did not take {path:?}");
        }
    }
}
