//! 100,000 users in the real window: the list loads, scrolls end to end with only the rows in
//! view in the page, and search narrows it.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::{seed_store, App, SEED_PASSWORD};

const SCROLL: &str = "[data-testid='users-scroll']";

#[tokio::test]
async fn a_hundred_thousand_users_load_scroll_and_search() {
    let app = App::launch_on("large-store", seed_store(100_000)).await;
    app.sign_in("owner@example.com", SEED_PASSWORD).await;
    // The generated Owner holds no recovery kit: it is shown first.
    app.pass_recovery_kit("users-table").await;
    app.wait_for_number_text("user-count", "100001 users").await;
    app.wait_for_number_text("tab-invited", "Invited 1000").await;
    // Only the rows in view are in the page.
    let rows = "[data-testid='user-row']";
    app.wait_for_count_where(rows, "10 to 99", |n| (10..100).contains(&n)).await;
    app.screenshot("01-top").await;

    // The middle, then the very end: rows are fetched as they come into view.
    app.js(&format!("document.querySelector(\"{SCROLL}\").scrollTop = 50000 * 44;")).await;
    app.wait_for_css("tr[data-index='50000']").await;
    app.js(&format!(
        "const v = document.querySelector(\"{SCROLL}\"); v.scrollTop = v.scrollHeight;"
    ))
    .await;
    app.wait_for_css("tr[data-index='100000'][data-email]").await;
    app.wait_for_count_where(rows, "under 100", |n| n < 100).await; // still only those in view
    app.screenshot("02-bottom").await;

    // Pablo Rossi 9999 is person 9,999 of the generator; nobody else's name holds "rossi 9999".
    app.type_into("search", "rossi 9999").await;
    app.wait_for_text("user-count", "1 user").await;
    app.wait_for_text("user-name", "Pablo Rossi 9999").await;
    app.screenshot("03-search").await;

    app.close().await;
}
