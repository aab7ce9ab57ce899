// Prevents an extra console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc, set to give freed memory back to the system (tools/allocator).
#[global_allocator]
static ALLOCATOR: gatehouse_allocator::MiMalloc = gatehouse_allocator::MiMalloc;

fn main() {
    gatehouse_allocator::give_memory_back();
    gatehouse_app::run_app();
}
