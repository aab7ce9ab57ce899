//! The app's binary started as `gatehouse` is the command line, as the Linux packages install it
//! (`src-tauri/linux/gatehouse` starts it under that name): the same answers, output and exit
//! codes as the `gatehouse` binary, and no window. Started under its own name it stays the app.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

/// Runs the app's binary with `gatehouse` as its name (argv[0]), as the packages' script does.
fn as_gatehouse(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse-app"))
        .arg0("gatehouse")
        .args(args)
        .env("GATEHOUSE_DATA_DIR", data)
        .env_remove("GATEHOUSE_PASSWORD")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run the app's binary")
}

#[test]
fn called_gatehouse_the_app_binary_is_the_command_line() {
    let data = tempfile::tempdir().expect("temp dir");

    let version = as_gatehouse(&["--version"], data.path());
    assert!(version.status.success(), "{version:?}");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("gatehouse {}", env!("CARGO_PKG_VERSION"))
    );

    let help = as_gatehouse(&["--help"], data.path());
    assert!(help.status.success(), "{help:?}");
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: gatehouse"), "{help:?}");

    // A real command on a data folder with no organization: core's refusal, as JSON, exit 1.
    let users =
        as_gatehouse(&["--json", "users", "list", "--as", "owner@example.com"], data.path());
    assert_eq!(users.status.code(), Some(1), "{users:?}");
    let body: serde_json::Value = serde_json::from_slice(&users.stdout).expect("a JSON body");
    assert_eq!(body["error"]["code"], "invalid_credentials", "{body}");

    // A usage error is exit 2, as from the `gatehouse` binary.
    let wrong = as_gatehouse(&["users", "no-such-command"], data.path());
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
}

#[test]
fn the_linux_packages_script_starts_the_app_binary_as_gatehouse() {
    let script =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("linux/gatehouse"))
            .expect("src-tauri/linux/gatehouse");
    assert!(script.starts_with("#!/bin/bash\n"), "exec -a needs bash");
    assert!(
        script.lines().any(|l| l == "exec -a gatehouse /usr/bin/gatehouse-app \"$@\""),
        "{script}"
    );
    let conf: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json"))
            .expect("tauri.conf.json"),
    )
    .expect("JSON");
    for package in ["deb", "rpm"] {
        assert_eq!(
            conf["bundle"]["linux"][package]["files"]["/usr/bin/gatehouse"], "linux/gatehouse",
            "the {package} installs /usr/bin/gatehouse"
        );
    }
}
