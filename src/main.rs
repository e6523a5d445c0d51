//! The `importdesk` binary: parse the arguments, dispatch, exit.

fn main() -> std::process::ExitCode {
    // Die quietly on a closed pipe (`importdesk customer list | head`) like other Unix tools,
    // instead of panicking in println!.
    // SAFETY: called once at start, before any thread exists.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    importdesk::cli::main()
}
