//! `make package`'s last step: the installed app (GATEHOUSE_APP, e.g. /usr/bin/gatehouse-app)
//! starts under Xvfb on a fresh data folder and shows its first screen through WebDriver.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_e2e::App;

#[tokio::main]
async fn main() {
    let app = App::launch("installed-package").await;
    app.get("setup-form").await;
    app.screenshot("01-first-screen").await;
    app.close().await;
    println!("the installed app started and showed its setup screen");
}
