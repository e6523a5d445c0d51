//! A tmux server of the test's own (`-L`) to drive the real binary in a pseudo-terminal,
//! read as a person reads it (`capture-pane -p`); shared by the tmux tests.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long any one step may take on a loaded machine before the test gives up (a hang
/// guard, not a performance assertion).
pub const PATIENCE: Duration = Duration::from_secs(90);

/// Killed with its server on drop, so the user's sessions are never touched.
pub struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// A detached session of `width`×`height` running `command` in a shell.
    pub fn start(name: &str, width: u16, height: u16, command: &str) -> Tmux {
        let tmux = Tmux { socket: format!("importdesk-{name}-{}", std::process::id()), session: name.to_string() };
        let (w, h) = (width.to_string(), height.to_string());
        let out = tmux.run(&["new-session", "-d", "-s", name, "-x", &w, "-y", &h, command]);
        assert!(out.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&out.stderr));
        tmux
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("running tmux")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", &self.session]).stdout).into_owned()
    }

    /// Polls the screen until `ok` holds, or fails showing the last screen.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

pub fn installed() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

pub fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// `env NO_COLOR=1 TERM=screen HOME=… importdesk --db DB --config CONFIG`, with the shell
/// left behind to print the exit status.
pub fn tui_command(bin: &Path, db: &Path, config: &Path, home: &Path) -> String {
    let env =
        [("HOME", home.to_path_buf()), ("XDG_DATA_HOME", home.join("data")), ("XDG_CONFIG_HOME", home.join("config"))];
    let exports: String = env.iter().map(|(k, v)| format!("{k}={} ", shell_quote(v))).collect();
    format!(
        "env NO_COLOR=1 TERM=screen {exports}{} --db {} --config {}; echo \"EXITED $?\"; sleep 600",
        shell_quote(bin),
        shell_quote(db),
        shell_quote(config)
    )
}
