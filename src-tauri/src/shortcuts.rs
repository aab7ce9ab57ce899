//! The keyboard shortcuts in the app menu: Users › Invite users (Cmd/Ctrl+N), Search
//! (Cmd/Ctrl+F); Go › the sidebar's sections (Cmd/Ctrl+1…9); Help › Keyboard shortcuts. An
//! entry sends `ShortcutChosen` with the name its shortcut has in the UI's table
//! (`ui/src/lib/shortcuts.svelte.ts`), which does what the same keys do in the window: the
//! menu holds no copy of what a shortcut does, nor of who may use it.

use crate::events::ShortcutChosen;
use gatehouse_core::ErrorBody;
use tauri::menu::{MenuItemBuilder, Submenu, SubmenuBuilder};
use tauri::{App, AppHandle, Manager, Wry};
use tauri_specta::Event;

/// The ids of the menu's shortcut entries start with this, then the shortcut's name.
const PREFIX: &str = "shortcut:";

/// The Go menu, whose entries are the signed-in person's sections (`show_sections`).
struct GoMenu(Submenu<Wry>);

/// The Users, Go and Help menus.
pub fn submenus(app: &App) -> tauri::Result<[Submenu<Wry>; 3]> {
    let entry = |action: &str, text: &str, keys: Option<&str>| {
        let item = MenuItemBuilder::with_id(format!("{PREFIX}{action}"), text);
        match keys {
            Some(keys) => item.accelerator(keys),
            None => item,
        }
        .build(app)
    };
    let users = SubmenuBuilder::new(app, "Users")
        .item(&entry("invite", "Invite users…", Some("CmdOrCtrl+N"))?)
        .item(&entry("search", "Search", Some("CmdOrCtrl+F"))?)
        .build()?;
    let go = SubmenuBuilder::new(app, "Go").enabled(false).build()?;
    app.manage(GoMenu(go.clone()));
    // `?` has no accelerator: as one it would be taken from every text field.
    let help = SubmenuBuilder::new(app, "Help")
        .item(&entry("help", "Keyboard shortcuts (?)", None)?)
        .build()?;
    Ok([users, go, help])
}

/// A menu entry was chosen: when it is a shortcut's, the window does it.
pub fn chosen(app: &AppHandle, id: &str) {
    if let Some(action) = id.strip_prefix(PREFIX) {
        let _ = ShortcutChosen { action: action.to_string() }.emit(app);
    }
}

/// Lists `labels` (the sidebar's sections, in its order; none when nobody is signed in) in
/// the Go menu, with Cmd/Ctrl+1… as the window's keys have them. Never refused: a menu that
/// cannot be changed is logged and left as it was.
#[tauri::command]
#[specta::specta]
pub fn show_sections(app: AppHandle, labels: Vec<String>) -> Result<(), ErrorBody> {
    let Some(go) = app.try_state::<GoMenu>() else { return Ok(()) };
    if let Err(e) = relabel(&app, &go.0, &labels) {
        tracing::warn!("listing the sections in the Go menu: {e}");
    }
    Ok(())
}

fn relabel(app: &AppHandle, go: &Submenu<Wry>, labels: &[String]) -> tauri::Result<()> {
    for item in go.items()? {
        go.remove(&item)?;
    }
    for (i, label) in labels.iter().take(9).enumerate() {
        let n = i + 1;
        let item = MenuItemBuilder::with_id(format!("{PREFIX}section-{n}"), label)
            .accelerator(format!("CmdOrCtrl+{n}"))
            .build(app)?;
        go.append(&item)?;
    }
    go.set_enabled(!labels.is_empty())
}
