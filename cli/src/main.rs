//! The `gatehouse` binary: everything is in the library (`lib.rs`), which the app's binary
//! also runs when it is called `gatehouse`.

fn main() -> std::process::ExitCode {
    gatehouse_cli::main()
}
