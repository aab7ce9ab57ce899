//! Access reviews (PCI DSS v4 7.2.4): thin commands over core's review verbs, and the two
//! report files saved through the native save dialog (0600, written atomically).

use crate::commands::files::{choose, save_csv};
use crate::state::{signed_in, AppState};
use gatehouse_core::model::{DecisionInput, Review, ReviewEntry, ReviewId, ReviewList};
use gatehouse_core::ErrorBody;
use tauri::State;
use tauri_plugin_dialog::DialogExt;

/// Every review (newest first) and when the next one is due.
#[tauri::command]
#[specta::specta]
pub async fn reviews(state: State<'_, AppState>) -> Result<ReviewList, ErrorBody> {
    signed_in(state, move |dir, s| dir.reviews(s)).await
}

/// One review in full, with what the reader may decide on each user.
#[tauri::command]
#[specta::specta]
pub async fn review(state: State<'_, AppState>, review: ReviewId) -> Result<Review, ErrorBody> {
    signed_in(state, move |dir, s| dir.review(s, review)).await
}

/// Starts a review: a snapshot of every Active and Invited user.
#[tauri::command]
#[specta::specta]
pub async fn start_review(state: State<'_, AppState>) -> Result<Review, ErrorBody> {
    signed_in(state, move |dir, s| dir.start_review(s)).await
}

/// Records the decision on one user of an unsigned review.
#[tauri::command]
#[specta::specta]
pub async fn decide_review(
    state: State<'_, AppState>,
    review: ReviewId,
    input: DecisionInput,
) -> Result<ReviewEntry, ErrorBody> {
    signed_in(state, move |dir, s| dir.decide_review(s, review, input)).await
}

/// Carries out the decisions through the ordinary operations; each entry's outcome says.
#[tauri::command]
#[specta::specta]
pub async fn apply_review(
    state: State<'_, AppState>,
    review: ReviewId,
) -> Result<Review, ErrorBody> {
    signed_in(state, move |dir, s| dir.apply_review(s, review)).await
}

/// Signs the review off: it becomes read-only and records the audit chain's head.
#[tauri::command]
#[specta::specta]
pub async fn sign_off_review(
    state: State<'_, AppState>,
    review: ReviewId,
) -> Result<Review, ErrorBody> {
    signed_in(state, move |dir, s| dir.sign_off_review(s, review)).await
}

/// The printable report: a self-contained HTML page (no scripts, every text escaped).
#[tauri::command]
#[specta::specta]
pub async fn review_report_html(
    state: State<'_, AppState>,
    review: ReviewId,
) -> Result<String, ErrorBody> {
    signed_in(state, move |dir, s| dir.review_report_html(s, review)).await
}

/// Asks where to save the review's CSV report and writes it. Returns the file's name, or
/// `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_review_csv(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    review: ReviewId,
) -> Result<Option<String>, ErrorBody> {
    let (number, csv) = signed_in(state, move |dir, s| {
        Ok((dir.review(s, review)?.header.number, dir.review_report_csv(s, review)?))
    })
    .await?;
    save_csv(&app, format!("gatehouse-access-review-{number}.csv"), csv).await
}

/// Asks where to save the review's HTML report and writes it. Returns the file's name, or
/// `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_review_html(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    review: ReviewId,
) -> Result<Option<String>, ErrorBody> {
    let (number, html) = signed_in(state, move |dir, s| {
        Ok((dir.review(s, review)?.header.number, dir.review_report_html(s, review)?))
    })
    .await?;
    let dialog = app
        .dialog()
        .file()
        .set_file_name(format!("gatehouse-access-review-{number}.html"))
        .add_filter("HTML", &["html"]);
    let Some(path) = choose(dialog, true).await? else {
        return Ok(None);
    };
    gatehouse_core::files::write_atomically(&path, html.as_bytes()).map_err(|e| e.to_body())?;
    Ok(Some(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()))
}
