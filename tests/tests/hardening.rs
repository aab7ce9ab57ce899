//! The page's process as the app starts it: no memory in it is both writable and executable
//! (the app turns JavaScriptCore's just-in-time compilers off, `shell::web_page_without_jit`).
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::App;

/// The mappings of `pid` that are writable and executable at once (`/proc/PID/maps`).
fn writable_and_executable(pid: u32) -> Vec<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("the process's maps");
    maps.lines()
        .filter(|line| {
            let perms = line.split_whitespace().nth(1).unwrap_or_default();
            perms.contains('w') && perms.contains('x')
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn no_memory_of_the_page_is_both_writable_and_executable() {
    // Drawn without GL: under Xvfb, Mesa's software GL compiles shaders into writable and
    // executable memory of its own in the page's process (a desktop's GPU driver does not).
    std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    let app = App::launch("hardening").await;
    app.get("setup-form").await;
    // The page has run its code (the setup form is drawn from it) and answered a script.
    let answer = app.client.execute("return 6 * 7", vec![]).await.unwrap();
    assert_eq!(answer.as_i64(), Some(42));

    let processes = app.app_processes();
    let pages: Vec<&(u32, String)> =
        processes.iter().filter(|(_, name)| name.starts_with("WebKitWebProc")).collect();
    assert!(!pages.is_empty(), "no web process among {processes:?}");
    for (pid, name) in pages {
        let both = writable_and_executable(*pid);
        assert!(both.is_empty(), "{name} ({pid}) has writable and executable memory: {both:?}");
    }
    app.close().await;
}
