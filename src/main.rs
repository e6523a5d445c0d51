//! The `importdesk` binary: parse the arguments, dispatch, exit.

fn main() -> std::process::ExitCode {
    importdesk::cli::main()
}
