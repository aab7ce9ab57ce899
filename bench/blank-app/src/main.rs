//! A blank Tauri 2 app: one window whose page says hello. `make bench` compares Gatehouse's
//! start time, memory and size with it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("blank app: {e}");
        std::process::exit(1);
    }
}
