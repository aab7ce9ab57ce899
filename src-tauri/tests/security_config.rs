//! The shell's security settings, read from the files the build uses: a strict
//! Content-Security-Policy, no global Tauri object, and capabilities that give the main window
//! nothing beyond what the app needs. Fails on any loosening.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use serde_json::Value;
use std::path::Path;

fn read_json(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read config")).expect("valid JSON")
}

#[test]
fn the_content_security_policy_allows_only_the_app_itself() {
    let conf = read_json("tauri.conf.json");
    let csp = conf["app"]["security"]["csp"].as_object().expect("CSP as an object");
    let allowed_sources =
        ["'self'", "'none'", "ipc:", "http://ipc.localhost", "data:", "'unsafe-inline'"];
    for (directive, sources) in csp {
        for source in sources.as_str().expect("string").split_whitespace() {
            assert!(allowed_sources.contains(&source), "{directive} allows {source}");
            if source == "data:" {
                assert_eq!(directive, "img-src", "data: only for images");
            }
            if source == "'unsafe-inline'" {
                assert_eq!(directive, "style-src", "inline only for styles");
            }
        }
    }
    for directive in ["default-src", "script-src", "object-src", "base-uri", "frame-ancestors"] {
        assert!(csp.contains_key(directive), "{directive} is set");
    }
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    assert_eq!(conf["app"]["security"]["dangerousDisableAssetCspModification"], Value::Null);
}

#[test]
fn no_global_tauri_object_and_only_the_main_window() {
    let conf = read_json("tauri.conf.json");
    assert_eq!(conf["app"]["withGlobalTauri"], Value::Bool(false));
    let windows = conf["app"]["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0]["label"], "main");
    assert!(
        conf["app"]["security"].get("capabilities").is_none(),
        "capabilities come from the folder"
    );
}

/// The commands the UI can call, as the generated bindings name them (checked against the
/// registered commands by tests/bindings.rs).
fn registered_commands() -> Vec<String> {
    let bindings = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts"),
    )
    .expect("bindings");
    bindings
        .split("__TAURI_INVOKE(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().expect("command name").to_string())
        .collect()
}

#[test]
fn every_command_is_in_the_app_manifest_so_only_granted_windows_may_call_it() {
    let build = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs"))
        .expect("build.rs");
    let list = build.split("const COMMANDS").nth(1).expect("COMMANDS in build.rs");
    let list = &list[..list.find("];").expect("end of COMMANDS")];
    let manifest: Vec<String> = list.split('"').skip(1).step_by(2).map(str::to_string).collect();
    let mut registered = registered_commands();
    assert!(registered.len() > 20, "bindings parsed: {registered:?}");
    registered.sort();
    let mut manifest_sorted = manifest.clone();
    manifest_sorted.sort();
    assert_eq!(
        manifest_sorted, registered,
        "build.rs COMMANDS lists exactly the registered commands"
    );
    assert!(build.contains(".app_manifest(manifest)"), "the manifest is handed to tauri-build");
}

#[test]
fn capabilities_grant_the_main_window_core_defaults_and_its_own_commands_only() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities");
    let files: Vec<_> =
        std::fs::read_dir(&dir).expect("capabilities folder").map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "one capability file: {files:?}");
    let cap = read_json("capabilities/main.json");
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    assert!(cap.get("remote").is_none(), "no remote URLs may call commands");
    let permissions: Vec<&str> = cap["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("plain permission"))
        .collect();
    // Zooming the page is how a person makes the text larger (Ctrl/Cmd + and -: tauri.conf.json
    // `zoomHotkeysEnabled`); it changes nothing but the window's own zoom.
    let mut expected = vec![
        "core:event:default".to_string(),
        "core:app:default".to_string(),
        "core:webview:allow-set-webview-zoom".to_string(),
    ];
    expected.extend(registered_commands().iter().map(|c| format!("allow-{}", c.replace('_', "-"))));
    assert_eq!(
        permissions, expected,
        "core defaults, the page's zoom and Gatehouse's own commands, nothing else"
    );
}
