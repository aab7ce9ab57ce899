//! Accessibility, checked on every screen and dialog a test reaches: each screenshot also runs
//! axe-core (the npm package in `ui/node_modules`, a dev dependency: it is put in the page by
//! WebDriver, in the test only, never shipped) against the WCAG 2.0, 2.1 and 2.2 A and AA
//! rules, once in the light theme and once in the dark one (the page's own
//! `prefers-color-scheme: dark` rules applied for the run, then taken away). What it finds is
//! written beside the screenshot (`NAME.axe.txt`); a violation of impact "serious" or
//! "critical" fails the test.
//!
//! One known false positive is reported but does not fail: axe-core places a sticky element
//! (the list's header row) as if it scrolled with the page (dequelabs/axe-core#3720), so a row
//! scrolled half under the header reads as a target obscured by it. A `target-size` finding
//! whose only obscuring elements are sticky is marked "known: axe-core#3720".

use crate::window::answered;
use fantoccini::Client;
use serde::Deserialize;
use std::path::Path;

/// The rules run: WCAG 2.0, 2.1 and 2.2, levels A and AA.
const TAGS: &str = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa']";

#[derive(Debug, Deserialize)]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    target: String,
    summary: String,
    /// Obscured only by sticky elements: axe-core's known false positive (module docs).
    sticky_only: bool,
}

impl Violation {
    fn blocks(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
            && self.nodes.iter().any(|n| !n.sticky_only)
    }
}

/// Runs axe in the page in both themes and writes `NAME.axe.txt` in `shots`: `Ok` with nothing
/// serious or critical, else the text of what is.
pub async fn check(client: &Client, shots: &Path, name: &str) -> Result<(), String> {
    load(client).await?;
    let mut report = String::new();
    let mut blocking = String::new();
    for theme in ["light", "dark"] {
        let violations = run(client, theme).await?;
        report += &format!("{theme} theme: {} violation(s)\n", violations.len());
        for v in &violations {
            let impact = v.impact.as_deref().unwrap_or("unknown");
            let mut text = format!("  [{impact}] {}: {}\n", v.id, v.help);
            for node in &v.nodes {
                let known = if node.sticky_only { " (known: axe-core#3720)" } else { "" };
                let summary = node.summary.replace('\n', "\n      ");
                text += &format!("    at {}{known}\n      {summary}\n", node.target);
            }
            if v.blocks() {
                blocking += &format!("{theme} theme: {text}");
            }
            report += &text;
        }
    }
    std::fs::write(shots.join(format!("{name}.axe.txt")), &report).map_err(|e| e.to_string())?;
    if blocking.is_empty() {
        Ok(())
    } else {
        Err(format!("accessibility violations on {name} (serious or critical):\n{blocking}"))
    }
}

/// Puts axe in the page, unless it is there already (it stays until the page reloads).
async fn load(client: &Client) -> Result<(), String> {
    let present =
        answered(client.execute("return typeof window.axe === 'object';", vec![])).await?;
    if present.as_bool() == Some(true) {
        return Ok(());
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js");
    let source = std::fs::read_to_string(&path).map_err(|e| {
        format!("{}: {e} (axe-core is a dev dependency of ui/: `make node-deps`)", path.display())
    })?;
    let loaded =
        answered(client.execute(&format!("{source}\nreturn typeof window.axe;"), vec![])).await?;
    match loaded.as_str() {
        Some("object") => Ok(()),
        other => Err(format!("axe-core did not load in the page ({other:?})")),
    }
}

/// The violations axe finds in the page as it is, in `theme`.
async fn run(client: &Client, theme: &str) -> Result<Vec<Violation>, String> {
    let script = format!(
        "const [theme, done] = arguments;
         let style = null;
         if (theme === 'dark') {{
           const rules = [];
           for (const sheet of document.styleSheets) {{
             for (const rule of sheet.cssRules) {{
               if (rule instanceof CSSMediaRule && rule.conditionText.includes('prefers-color-scheme: dark')) {{
                 for (const inner of rule.cssRules) rules.push(inner.cssText);
               }}
             }}
           }}
           style = document.createElement('style');
           style.textContent = rules.join('\\n');
           document.head.appendChild(style);
         }}
         const finish = (answer) => {{ if (style) style.remove(); done(answer); }};
         const sticky = (el) => {{
           for (let e = el; e; e = e.parentElement) {{
             if (getComputedStyle(e).position === 'sticky') return true;
           }}
           return false;
         }};
         const stickyOnly = (v, n) => {{
           if (v.id !== 'target-size') return false;
           const related = [...n.any, ...n.all, ...n.none].flatMap((c) => c.relatedNodes ?? []);
           const obscuring = related.map((r) => document.querySelector(r.target.join(' ')));
           return /obscured/.test(n.failureSummary ?? '') && obscuring.length > 0
             && obscuring.every((e) => e && sticky(e));
         }};
         axe.run(document, {{ runOnly: {{ type: 'tag', values: {TAGS} }}, resultTypes: ['violations'] }})
           .then((r) => finish(JSON.stringify(r.violations.map((v) => ({{
             id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.map((n) => ({{
               target: n.target.join(' '), summary: n.failureSummary ?? '', sticky_only: stickyOnly(v, n),
             }})),
           }})))))
           .catch((e) => finish('error: ' + e));"
    );
    let answer =
        answered(client.execute_async(&script, vec![serde_json::Value::from(theme)])).await?;
    let text = answer.as_str().unwrap_or_default();
    serde_json::from_str(text).map_err(|_| format!("axe did not run in the {theme} theme: {text}"))
}
