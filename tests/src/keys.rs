//! A person at the keyboard: keys pressed on whatever has the focus, and where the focus is.
//! Keys are WebDriver key codes; a modifier holds until the end of the keys pressed.

use crate::window::answered;
use crate::{patience, App};
use fantoccini::actions::{
    Actions, InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT,
};
use std::time::{Duration, Instant};

pub const TAB: &str = "\u{E004}";
pub const SHIFT_TAB: &str = "\u{E008}\u{E004}";
pub const ENTER: &str = "\u{E007}";
pub const ESCAPE: &str = "\u{E00C}";
pub const SPACE: &str = " ";
pub const BACKSPACE: &str = "\u{E003}";
pub const UP: &str = "\u{E013}";
pub const DOWN: &str = "\u{E015}";
pub const HOME: &str = "\u{E011}";
pub const END: &str = "\u{E010}";

/// Shift and Ctrl as modifiers of a click (`click_holding`).
pub const SHIFT: char = '\u{E008}';
pub const CTRL: char = '\u{E009}';

/// Shift, Ctrl, Alt and Meta: held down until the end of the keys pressed.
const MODIFIERS: [char; 4] = ['\u{E008}', '\u{E009}', '\u{E00A}', '\u{E03D}'];

/// Ctrl with `key`: the shortcuts' modifier on Linux, where the tests run (Cmd on macOS).
pub fn ctrl(key: char) -> String {
    format!("\u{E009}{key}")
}

impl App {
    /// Presses `keys` on whatever has the focus, as a keyboard does (WebDriver actions: an
    /// element's Send Keys would first focus that element again, which puts a date field
    /// back on its first part). Modifiers are held down until the end of `keys`.
    pub async fn press(&self, keys: &str) {
        let mut actions = KeyActions::new("keyboard".to_string());
        let mut held = Vec::new();
        for key in keys.chars() {
            actions = actions.then(KeyAction::Down { value: key });
            if MODIFIERS.contains(&key) {
                held.push(key);
            } else {
                actions = actions.then(KeyAction::Up { value: key });
            }
        }
        for key in held.into_iter().rev() {
            actions = actions.then(KeyAction::Up { value: key });
        }
        if let Err(e) = answered(self.client.perform_actions(actions)).await {
            self.fail(&format!("keys not pressed: {e}")).await;
        }
    }

    /// Clicks the first element matching `css` with `modifier` (`SHIFT`, `CTRL`) held down, as
    /// a person Shift-clicks or Ctrl-clicks: the key and the mouse in one WebDriver action,
    /// the key pressed before the pointer moves and released after the click.
    pub async fn click_holding(&self, modifier: char, css: &str) {
        let element = self.wait_for_css(css).await;
        let tick = Duration::ZERO;
        let keys = KeyActions::new("keyboard".to_string())
            .then(KeyAction::Down { value: modifier })
            .pause(tick)
            .pause(tick)
            .pause(tick)
            .then(KeyAction::Up { value: modifier });
        let mouse = MouseActions::new("mouse".to_string())
            .pause(tick)
            .then(PointerAction::MoveToElement { element, duration: None, x: 0.0, y: 0.0 })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
            .pause(tick);
        let actions = Actions::from(keys).and(mouse);
        if let Err(e) = answered(self.client.perform_actions(actions)).await {
            self.fail(&format!("{css} not clicked with a key held: {e}")).await;
        }
    }

    /// Whether the focused element matches `css` now.
    async fn focus_matches(&self, css: &str) -> bool {
        let script = "return !!document.activeElement?.matches(arguments[0]);";
        let answer = answered(self.client.execute(script, vec![css.into()])).await;
        answer.ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }

    /// What has the focus, as a failure tells it: its test id or name, and its row.
    async fn focused(&self) -> String {
        let script = "const e = document.activeElement; if (!e) return 'nothing'; \
            const row = e.closest('tr[data-email]')?.dataset.email; \
            const what = e.dataset.testid || e.getAttribute('aria-label') || e.tagName; \
            return row ? `${what} in the row of ${row}` : what;";
        let answer = answered(self.client.execute(script, vec![])).await;
        answer.ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    /// Waits until the focused element matches `css` (focus moves after the keys, as the
    /// window answers them).
    pub async fn wait_for_focus(&self, css: &str) {
        let (start, within) = (Instant::now(), patience::step());
        while !self.focus_matches(css).await {
            if start.elapsed() > within {
                let on = self.focused().await;
                self.fail(&format!("the focus is on {on}, not on {css}")).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses `key` (Tab, Shift+Tab, an arrow) until the focus is on `css`, at most `most`
    /// times: how a person moves to a control they see.
    pub async fn move_focus_to(&self, key: &str, css: &str, most: usize) {
        for _ in 0..most {
            if self.focus_matches(css).await {
                return;
            }
            self.press(key).await;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        self.wait_for_focus(css).await;
    }
}
