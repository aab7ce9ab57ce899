//! The desktop's dark theme and a larger text size: the app follows the desktop's theme (GTK's
//! dark Adwaita here), and at 200% (Ctrl and = five times, the WebView's own zoom) in a
//! 1200×735 window every screen still fits its width, with nothing pushed out of reach. Every
//! screenshot also runs the accessibility check, in both themes.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fantoccini::key::Key;
use gatehouse_e2e::App;

/// What is cut off at the window's right edge (a table's own scroll box aside), and whether a
/// screen's content scrolls sideways: a list of descriptions, empty when all fits.
const CUT_OFF: &str = "const width = document.documentElement.clientWidth;
    const cut = [...document.querySelectorAll('button, a, input, select, h1, h2, label, [role=tab]')]
      .filter((e) => e.getClientRects().length > 0 && !e.closest('.table-wrap'))
      .filter((e) => e.getBoundingClientRect().right > width + 1)
      .map((e) => `${e.tagName} ${(e.innerText || e.getAttribute('aria-label') || '').trim()}`);
    for (const e of document.querySelectorAll('.content')) {
      if (e.scrollWidth > e.clientWidth + 1) cut.push(`the screen scrolls sideways by ${e.scrollWidth - e.clientWidth}px`);
    }
    return cut;";

/// The sections every Owner sees, by their navigation test id.
const SECTIONS: [&str; 4] = ["users", "roles", "audit", "account"];

#[tokio::test]
async fn the_app_follows_the_desktops_dark_theme() {
    let app = App::launch_dark("dark-theme").await;
    let dark = app.js("return matchMedia('(prefers-color-scheme: dark)').matches;").await;
    assert_eq!(dark, serde_json::Value::Bool(true), "the page sees the desktop's dark theme");
    app.set_up_owner().await;
    let background = app.js("return getComputedStyle(document.body).backgroundColor;").await;
    assert_eq!(background, "rgb(23, 23, 26)", "the dark theme's background");
    for (n, section) in SECTIONS.iter().enumerate() {
        app.click(&format!("nav-{section}")).await;
        app.screenshot(&format!("{:02}-{section}", n + 1)).await;
    }
    app.close().await;
}

#[tokio::test]
async fn at_200_percent_every_screen_fits_its_window() {
    let app = App::launch("text-200").await;
    app.client.set_window_size(1200, 735).await.expect("window size");
    app.set_up_owner().await;
    let width = app.js("return window.innerWidth;").await.as_f64().unwrap();
    for _ in 0..5 {
        let body = app.client.find(fantoccini::Locator::Css("body")).await.unwrap();
        body.send_keys(&format!("{}={}", char::from(Key::Control), char::from(Key::Null)))
            .await
            .unwrap();
    }
    // The WebView's zoom halves the page's width in CSS pixels.
    let zoomed = app
        .wait_for_js_where("return window.innerWidth;", "half the width", |w| {
            w.as_f64().is_some_and(|w| (w - width / 2.0).abs() < 2.0)
        })
        .await;
    assert!(zoomed.as_f64().unwrap() < width, "zoomed to 200%");
    for (n, section) in SECTIONS.iter().enumerate() {
        app.click(&format!("nav-{section}")).await;
        app.screenshot(&format!("{:02}-{section}", n + 1)).await;
        // Nothing a person reads or uses is cut off at the right, or needs the screen to be
        // scrolled sideways; only a table may scroll sideways within its own box.
        let cut = app.js(CUT_OFF).await;
        assert_eq!(cut, serde_json::json!([]), "{section}: cut off at 200%");
    }
    app.close().await;
}
