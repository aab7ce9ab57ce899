//! The page's process as the app starts it: no memory in it is both writable and executable
//! (the app turns JavaScriptCore's just-in-time compilers off, `shell::web_page_without_jit`).
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::App;

/// The mappings of `pid` that are writable and executable at once (`/proc/PID/maps`); `None`
/// when the process has ended since it was listed.
fn writable_and_executable(pid: u32) -> Option<Vec<String>> {
    let maps = match std::fs::read_to_string(format!("/proc/{pid}/maps")) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        read => read.expect("the process's maps"),
    };
    let both = maps
        .lines()
        .filter(|line| {
            let perms = line.split_whitespace().nth(1).unwrap_or_default();
            perms.contains('w') && perms.contains('x')
        })
        .map(str::to_string)
        .collect();
    Some(both)
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
    let mut read = 0;
    for (pid, name) in pages {
        let Some(both) = writable_and_executable(*pid) else { continue };
        read += 1;
        assert!(both.is_empty(), "{name} ({pid}) has writable and executable memory: {both:?}");
    }
    assert!(read > 0, "no web process's memory map could be read");
    app.close().await;
}
