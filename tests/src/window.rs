//! Reading and waiting on the window. Every read that a test asserts on waits for its
//! condition (rows and texts come from core asynchronously, after the click that asked for
//! them), and each read is one script that finds and reads the element together: an element
//! replaced while it is read (Svelte re-renders a row) reads as absent and is read again,
//! never a stale reference. Clicks and typing are retried on any WebDriver error until the
//! deadline, for the same reason.

use crate::{patience, App};
use fantoccini::elements::Element;
use fantoccini::Locator;
use serde_json::Value;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(50);

/// The answer to one WebDriver request, or an error when it does not come within a step: a
/// request WebKitWebDriver never answers (the app stuck, or the session queued behind such a
/// request) fails the test instead of hanging it.
pub async fn answered<T, E: std::fmt::Display>(
    request: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    let within = patience::step();
    match tokio::time::timeout(within, request).await {
        Ok(answer) => answer.map_err(|e| e.to_string()),
        Err(_) => Err(format!("WebDriver did not answer within {within:?}")),
    }
}

/// The CSS selector of the elements with this `data-testid`.
pub fn testid(testid: &str) -> String {
    format!("[data-testid='{testid}']")
}

/// The CSS selector of the element with this `data-testid` inside the row of `email`.
pub fn in_row(email: &str, testid: &str) -> String {
    format!("[data-email='{email}'] [data-testid='{testid}']")
}

impl App {
    /// Runs `script` with `args`; `None` when WebDriver answers with an error.
    async fn probe(&self, script: &str, args: Vec<Value>) -> Option<Value> {
        answered(self.client.execute(script, args)).await.ok()
    }

    /// The text (`innerText`, trimmed) of the first element matching `css` now, if any.
    async fn read_text(&self, css: &str) -> Option<String> {
        let read = "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;";
        let text = self.probe(read, vec![css.into()]).await?;
        text.as_str().map(|t| t.trim().to_string())
    }

    /// How many elements match `css` now (`None` when it could not be read).
    async fn read_count(&self, css: &str) -> Option<usize> {
        let count = "return document.querySelectorAll(arguments[0]).length;";
        let n = self.probe(count, vec![css.into()]).await?;
        n.as_u64().map(|n| n as usize)
    }

    /// Waits up to `within` until the first element matching `css` has a text that passes
    /// `ok` (`what` describes it for the failure); returns that text.
    pub async fn wait_for_css_text_within(
        &self,
        css: &str,
        what: &str,
        within: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let text = self.read_text(css).await;
            if let Some(text) = text.as_ref().filter(|t| ok(t)) {
                return text.clone();
            }
            if start.elapsed() > within {
                let message =
                    format!("{css} never read {what:?} within {within:?}; it reads {text:?}");
                self.fail(&message).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the first element matching `css` has a text that passes `ok`.
    pub async fn wait_for_css_text(
        &self,
        css: &str,
        what: &str,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_for_css_text_within(css, what, patience::step(), ok).await
    }

    /// The element's rendered text (`innerText`, trimmed), once it is present: for a value
    /// shown with its element (a code in a dialog). A text that changes after an action is
    /// read with `wait_for_text` or `wait_for_text_where`.
    pub async fn text(&self, testid: &str) -> String {
        self.wait_for_css_text(&self::testid(testid), "any text", |_| true).await
    }

    /// Waits until the element's text is `expected`.
    pub async fn wait_for_text(&self, testid: &str, expected: &str) {
        self.wait_for_text_where(testid, expected, |t| t == expected).await;
    }

    /// Waits until the element's text passes `ok` (`what` describes it for the failure);
    /// returns that text.
    pub async fn wait_for_text_where(
        &self,
        testid: &str,
        what: &str,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_for_css_text(&self::testid(testid), what, ok).await
    }

    /// Waits until the element's text with digit group separators (which depend on the
    /// locale) taken out is `expected`.
    pub async fn wait_for_number_text(&self, testid: &str, expected: &str) {
        let plain = |t: &str| t.replace([',', '.', '\u{a0}', '\u{202f}', '\''], "");
        self.wait_for_text_where(testid, expected, |t| plain(t) == expected).await;
    }

    /// Waits until the element `testid` in the row of `email` reads `expected`.
    pub async fn wait_for_row_text(&self, email: &str, testid: &str, expected: &str) {
        self.wait_for_css_text(&in_row(email, testid), expected, |t| t == expected).await;
    }

    /// Waits until exactly `n` elements with this `data-testid` are present.
    pub async fn wait_for_count(&self, testid: &str, n: usize) {
        self.wait_for_css_count(&self::testid(testid), n).await;
    }

    /// Waits until exactly `n` elements match `css`.
    pub async fn wait_for_css_count(&self, css: &str, n: usize) {
        self.wait_for_count_where(css, &n.to_string(), |count| count == n).await;
    }

    /// Waits until the number of elements matching `css` passes `ok` (`what` describes it for
    /// the failure); returns that number.
    pub async fn wait_for_count_where(
        &self,
        css: &str,
        what: &str,
        ok: impl Fn(usize) -> bool,
    ) -> usize {
        let (start, within) = (Instant::now(), patience::step());
        loop {
            let count = self.read_count(css).await;
            if let Some(n) = count.filter(|n| ok(*n)) {
                return n;
            }
            if start.elapsed() > within {
                let message = format!("never {what} of {css} within {within:?}: {count:?}");
                self.fail(&message).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until what `script` returns passes `ok` (`what` describes it for the failure);
    /// returns it.
    pub async fn wait_for_js_where(
        &self,
        script: &str,
        what: &str,
        ok: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let (start, within) = (Instant::now(), patience::step());
        loop {
            let value = answered(self.client.execute(script, vec![])).await;
            if let Some(value) = value.as_ref().ok().filter(|v| ok(v)) {
                return value.clone();
            }
            if start.elapsed() > within {
                let message = format!("never {what} within {within:?}: {script} gave {value:?}");
                self.fail(&message).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the form field with this `data-testid` shows `expected` as its error: the
    /// control is `aria-invalid`, described by the sentence (`aria-describedby`), and has the
    /// focus.
    pub async fn wait_for_field_error(&self, testid: &str, expected: &str) {
        let state = self.field_state(testid);
        let what = format!("[data-testid='{testid}'] showing {expected:?} as its error");
        self.wait_for_js_where(&state, &what, |v| {
            v["invalid"] == "true"
                && v["focused"] == true
                && v["said"].as_str().is_some_and(|said| said.contains(expected))
        })
        .await;
    }

    /// Waits until the form field with this `data-testid` shows no error.
    pub async fn wait_for_field_clear(&self, testid: &str) {
        let state = self.field_state(testid);
        let what = format!("[data-testid='{testid}'] without an error");
        self.wait_for_js_where(&state, &what, |v| v["invalid"].is_null() && v["said"] == "").await;
    }

    /// A script reading a form field's error state: `invalid` (its aria-invalid), `said` (the
    /// texts of what describes it that are errors) and `focused`.
    fn field_state(&self, testid: &str) -> String {
        format!(
            "const c = document.querySelector({}); if (!c) return null;
             const ids = (c.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
             const said = ids.map(id => document.getElementById(id))
               .filter(e => e && e.id.endsWith('-error')).map(e => e.innerText).join(' ');
             return {{ invalid: c.getAttribute('aria-invalid'), said,
                       focused: document.activeElement === c }};",
            Value::from(self::testid(testid))
        )
    }

    /// The texts of all elements matching `css` now, in document order, read at once: for
    /// reading a list after a wait has seen it complete.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let read =
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);";
        self.read_list(read, css).await
    }

    /// The attribute `name` of all elements matching `css` now, in document order ("" where
    /// absent), read at once.
    pub async fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        let read = format!(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute({}) ?? '');",
            Value::from(name)
        );
        self.read_list(&read, css).await
    }

    async fn read_list(&self, script: &str, css: &str) -> Vec<String> {
        let (start, within) = (Instant::now(), patience::step());
        loop {
            if let Some(Value::Array(items)) = self.probe(script, vec![css.into()]).await {
                let text = |v: &Value| v.as_str().unwrap_or_default().trim().to_string();
                return items.iter().map(text).collect();
            }
            if start.elapsed() > within {
                self.fail(&format!("could not read {css}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for an element by its `data-testid`.
    pub async fn get(&self, testid: &str) -> Element {
        self.wait_for_css(&self::testid(testid)).await
    }

    /// Waits until `css` matches an element.
    pub async fn wait_for_css(&self, css: &str) -> Element {
        self.wait_for_css_within(css, patience::step()).await
    }

    /// Waits up to `within` until `css` matches an element. Any error finding it (none there
    /// yet, or the page between two renders) is tried again until then.
    pub async fn wait_for_css_within(&self, css: &str, within: Duration) -> Element {
        let start = Instant::now();
        loop {
            let found = answered(self.client.find(Locator::Css(css))).await;
            match found {
                Ok(element) => return element,
                Err(e) if start.elapsed() > within => {
                    self.fail(&format!("nothing matches {css} within {within:?}: {e}")).await
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Clicks the element with this `data-testid`, once it is there.
    pub async fn click(&self, testid: &str) {
        self.click_css(&self::testid(testid)).await;
    }

    /// Clicks the first element matching `css`, once it is there and takes the click: an
    /// element replaced between finding and clicking is found again.
    pub async fn click_css(&self, css: &str) {
        self.retry(css, "click", |element| async move { element.click().await.map(drop) }).await;
    }

    /// Sends `keys` (WebDriver key codes) to the element with this `data-testid`.
    pub async fn send_keys_to(&self, testid: &str, keys: &str) {
        self.retry(&self::testid(testid), "send keys to", |element| async move {
            element.send_keys(keys).await
        })
        .await;
    }

    /// Waits until the input with this `data-testid` holds the value `expected`.
    pub async fn wait_for_value(&self, testid: &str, expected: &str) {
        let (start, within) = (Instant::now(), patience::step());
        let read = "return document.querySelector(arguments[0])?.value ?? null;";
        loop {
            let value = self.probe(read, vec![self::testid(testid).into()]).await;
            if value.as_ref().and_then(Value::as_str) == Some(expected) {
                return;
            }
            if start.elapsed() > within {
                let message =
                    format!("[data-testid='{testid}'] never held {expected:?}: {value:?}");
                self.fail(&message).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Types `text` into the input with this `data-testid`, replacing what it held.
    pub async fn type_into(&self, testid: &str, text: &str) {
        self.retry(&self::testid(testid), "type into", |input| async move {
            input.clear().await?;
            if !text.is_empty() {
                input.send_keys(text).await?;
            }
            Ok(())
        })
        .await;
    }

    /// Finds `css` and does `act` on it, finding it again after any error, until the step's
    /// deadline.
    async fn retry<F, Fut>(&self, css: &str, what: &str, act: F)
    where
        F: Fn(Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        let (start, within) = (Instant::now(), patience::step());
        loop {
            let element =
                self.wait_for_css_within(css, within.saturating_sub(start.elapsed())).await;
            match answered(act(element)).await {
                Ok(()) => return,
                Err(e) if start.elapsed() > within => {
                    self.fail(&format!("could not {what} {css} within {within:?}: {e}")).await
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }
}
