//! What the shell tells the window without being asked: typed events, exported to
//! `ui/src/lib/bindings.ts` beside the commands (`events.importProgress.listen(…)`), so that
//! an event's name and payload have one definition. Each name is the type's in kebab case.

use serde::Serialize;
use specta::Type;
use tauri::plugin::TauriPlugin;
use tauri::Wry;
use tauri_specta::{collect_events, Builder, Event, Events};

/// Progress of a running import (`import_run`), once per row.
#[derive(Debug, Clone, Serialize, Type, Event)]
pub struct ImportProgress {
    pub done: u32,
    pub total: u32,
}

/// The background sender sent or tried messages: the Outbox screen reads them again.
#[derive(Debug, Clone, Serialize, Type, Event)]
pub struct OutboxChanged;

/// The hourly check of end dates and dormancy deactivated someone: the Users list reloads.
#[derive(Debug, Clone, Serialize, Type, Event)]
pub struct AccessEnded {
    /// How many people's access ended.
    pub users: u32,
}

/// A second launch of Gatehouse brought this window forward: the window says why.
#[derive(Debug, Clone, Serialize, Type, Event)]
pub struct AlreadyRunning;

/// An app menu entry with a keyboard shortcut was chosen (or its accelerator pressed): the
/// window does what the shortcut named `action` in its table does (`search`, `invite`, `help`,
/// `section-N`).
#[derive(Debug, Clone, Serialize, Type, Event)]
pub struct ShortcutChosen {
    pub action: String,
}

/// Every event, for the builder (bindings, and the registry `emit` looks names up in).
pub fn all() -> Events {
    collect_events![ImportProgress, OutboxChanged, AccessEnded, AlreadyRunning, ShortcutChosen]
}

/// Mounts the events of `builder` in Tauri's state as a plugin's first step, so that it is done
/// before any later plugin runs: the instance plugin tells the window of a second launch as soon
/// as it listens, before the app's own setup. (Sending an event that is not mounted panics.)
pub fn plugin(builder: Builder<Wry>) -> TauriPlugin<Wry> {
    tauri::plugin::Builder::<Wry>::new("gatehouse-events")
        .setup(move |app, _api| {
            builder.mount_events(app);
            Ok(())
        })
        .build()
}
