//! 100,000 users in the real window: the list loads, scrolls end to end with only the rows in
//! view in the page, and search narrows it; names sort with their numbers as numbers, the list
//! sorts by last sign-in, and an invitation's status says when it expires.
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
    // The rows in view, with the locale's thousands separators: "1–12 of 100,001".
    app.wait_for_text_where("users-range", "1–N of 100,001", |t| {
        let plain = t.replace([',', '.', '\u{a0}', '\u{202f}', '\''], "");
        t.starts_with("1–") && plain.ends_with(" of 100001") && !t.ends_with(" of 100001")
    })
    .await;
    // Numbers inside names sort as numbers: the generator's "Ada Abbott N" come every 480th
    // person, those under 1,000 invited (listed by email, after the names), so the list opens
    // on 1,440, 1,920, 2,400... where text order would put "Ada Abbott 10080" first.
    let names = app.texts("[data-testid='user-name']").await;
    assert_eq!(
        names[..4],
        ["Ada Abbott 1440", "Ada Abbott 1920", "Ada Abbott 2400", "Ada Abbott 2880"],
        "{names:?}"
    );
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

    // By last sign-in: only the Owner has signed in, so she leads both ways; everyone who never
    // did follows, in name order either way.
    app.send_keys_to("search", &"\u{e003}".repeat("rossi 9999".len())).await; // Backspace
    app.wait_for_number_text("user-count", "100001 users").await;
    let header = "th:has([data-testid='sort-last-sign-in'])";
    for direction in ["ascending", "descending"] {
        app.click("sort-last-sign-in").await;
        app.wait_for_css(&format!("{header}[aria-sort='{direction}']")).await;
        app.wait_for_css_text("tr[data-index='0'] [data-testid='user-name']", "the Owner", |t| {
            t == "Olivia Owner"
        })
        .await;
        app.wait_for_css_text(
            "tr[data-index='0'] [data-testid='user-last-sign-in']",
            "Today",
            |t| t == "Today",
        )
        .await;
        app.wait_for_css_text("tr[data-index='1'] [data-testid='user-name']", "Ada 1440", |t| {
            t == "Ada Abbott 1440"
        })
        .await;
        app.wait_for_css_text(
            "tr[data-index='1'] [data-testid='user-last-sign-in']",
            "Never",
            |t| t == "Never",
        )
        .await;
    }
    app.screenshot("04-by-last-sign-in").await;

    // An invitation's status says when it expires (the generator's last 7 days).
    app.click("tab-invited").await;
    app.wait_for_number_text("user-count", "1000 users").await;
    let status = app
        .wait_for_css_text(
            "tr[data-index='0'] [data-testid='user-status']",
            "Invited · expires …",
            |t| {
                let words = t.split_whitespace().collect::<Vec<_>>().join(" ");
                words.starts_with("Invited · expires ") && words.len() > "Invited · expires ".len()
            },
        )
        .await;
    assert!(!status.contains("expired"), "{status}");
    app.screenshot("05-invited-expires").await;

    app.close().await;
}
