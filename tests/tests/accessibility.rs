//! The accessibility check that every screenshot runs (axe-core, WCAG 2.x A and AA, light and
//! dark themes) finds what it should: a screen passes as it is, and fails with a button that
//! has no name, or with text readable in the light theme but not in the dark one.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::App;

#[tokio::test]
async fn the_check_passes_the_setup_screen_and_fails_what_a_person_could_not_use() {
    let app = App::launch("accessibility").await;
    app.wait_for_css("[data-testid='setup-form']").await;
    app.accessibility("01-setup").await.expect("the setup screen passes");

    // An icon button with no name: nothing for a screen reader to say.
    app.js("const b = document.createElement('button'); b.id = 'nameless'; b.textContent = '⋯';
         b.setAttribute('aria-label', ''); b.innerHTML = '<svg width=\"8\" height=\"8\"></svg>';
         document.querySelector('main, form, body').appendChild(b);")
        .await;
    let found = app.accessibility("02-nameless-button").await.expect_err("a nameless button fails");
    assert!(found.contains("button-name") && found.contains("#nameless"), "{found}");
    app.js("document.getElementById('nameless').remove();").await;

    // Dark grey text: fine on the light theme's white, unreadable on the dark theme's near black.
    app.js(
        "const p = document.createElement('p'); p.id = 'dim'; p.textContent = 'Only readable in light';
         p.style.color = '#3a3a3a'; p.style.background = 'var(--bg)';
         document.querySelector('main, form, body').appendChild(p);",
    )
    .await;
    let found = app.accessibility("03-dark-only-contrast").await.expect_err("dark contrast fails");
    assert!(found.contains("dark theme: ") && found.contains("color-contrast"), "{found}");
    assert!(!found.contains("light theme: "), "the light theme is fine: {found}");
    app.close().await;
}
