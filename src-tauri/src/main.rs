// Prevents an extra console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc, set to give freed memory back to the system (tools/allocator).
#[global_allocator]
static ALLOCATOR: gatehouse_allocator::MiMalloc = gatehouse_allocator::MiMalloc;

fn main() -> std::process::ExitCode {
    if called_gatehouse() {
        return gatehouse_cli::main();
    }
    gatehouse_allocator::give_memory_back();
    gatehouse_app::run_app();
    std::process::ExitCode::SUCCESS
}

/// Whether this binary was started as `gatehouse`, the command line: the Linux packages install
/// `/usr/bin/gatehouse` as a script that starts it under that name (`src-tauri/linux/gatehouse`),
/// so that the package carries core once. Started under its own name, it is the app.
fn called_gatehouse() -> bool {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .is_some_and(|arg0| arg0.file_stem().is_some_and(|name| name == "gatehouse"))
}
