#![allow(clippy::expect_used)]
//! The committed `ui/src/lib/bindings.ts` must be exactly what the commands export.
//! `make bindings` (GATEHOUSE_BLESS=1) rewrites it.

use std::path::Path;

#[test]
fn committed_bindings_match_the_commands() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
    let tmp = tempfile::tempdir().expect("temp dir");
    let fresh = tmp.path().join("bindings.ts");
    gatehouse_app::export_bindings(&fresh).expect("export bindings");
    let fresh = std::fs::read_to_string(&fresh).expect("read fresh bindings");
    if std::env::var_os("GATEHOUSE_BLESS").is_some() {
        std::fs::write(&committed, &fresh).expect("write bindings");
        return;
    }
    let current = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        current == fresh,
        "ui/src/lib/bindings.ts is out of date with the Tauri commands: run `make bindings` and commit it"
    );
}
