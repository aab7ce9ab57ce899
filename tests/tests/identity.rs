//! App identity in the real window: a second launch brings the running app forward instead
//! of opening another window, and the window's size is kept for the next start.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{answered, patience, App};

#[tokio::test]
async fn a_second_launch_hands_over_to_the_first_and_the_window_keeps_its_size() {
    let data = tempfile::tempdir().unwrap();
    // A socket left by an app that did not end cleanly: nobody answers on it any more.
    drop(std::os::unix::net::UnixListener::bind(data.path().join("gatehouse.sock")).unwrap());
    let app = App::launch_in("identity", data.path()).await;
    app.set_up_owner().await;

    // The second launch exits by itself.
    app.launch_again().unwrap_or_else(|e| panic!("the second launch: {e}"));
    app.wait_for_text("toast-text", "Gatehouse is already open: here it is.").await;
    app.screenshot("01-already-open").await;

    answered(app.client.set_window_rect(40, 30, 1000, 640)).await.unwrap();
    let saved = data.path().join("config/app.gatehouse.desktop/.window-state.json");
    let (start, within) = (std::time::Instant::now(), patience::step());
    let width = || -> Option<u64> {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&saved).ok()?).ok()?;
        state["main"]["width"].as_u64()
    };
    while width() != Some(1000) {
        assert!(start.elapsed() < within, "window state not saved: {:?}", width());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.close().await;

    let again = App::launch_in("identity", data.path()).await;
    again.get("signin-form").await;
    let (start, within) = (std::time::Instant::now(), patience::step());
    loop {
        let size = answered(again.client.get_window_rect()).await.map(|(_, _, w, h)| (w, h));
        if matches!(size, Ok((1000, 640))) {
            break;
        }
        // The size of the last run.
        assert!(start.elapsed() < within, "the window is {size:?}, not 1000 x 640");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    again.close().await;
}
