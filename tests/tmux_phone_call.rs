//! The phone call, end to end: the real binary (`importdesk demo`) in a detached tmux
//! session at 80×24 with `NO_COLOR=1`, driven key by key — find a customer, select them,
//! open the planner, wait for the count from the simulated shop, copy the quote with `y`,
//! quit — reading the screen with `tmux capture-pane -p` as a person would.
//!
//! Skipped, with a message, where tmux is not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_importdesk");
/// How long any one step may take on a loaded machine before the test gives up (a hang
/// guard, not a performance assertion).
const PATIENCE: Duration = Duration::from_secs(60);

/// A tmux server of our own (`-L`), so the user's sessions are never touched; killed on drop.
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("running tmux")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Types text literally (no key names).
    fn text(&self, text: &str) {
        self.keys(&["-l", text]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", &self.session]).stdout).into_owned()
    }

    /// Polls the screen until `ok` holds, or fails showing the last screen.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("waited {PATIENCE:?} for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn tmux_installed() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// A customer of the demo database, from `importdesk customer list --json`.
fn first_customer(db: &Path, env: &[(&str, PathBuf)]) -> (i64, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("--db").arg(db).args(["customer", "list", "--json"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("running importdesk customer list");
    assert!(out.status.success(), "customer list failed: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("customer list prints JSON");
    let customers = json["customers"].as_array().expect("a customers array");
    // A WooCommerce shop: no 60-day Shopify limit on the default range.
    let c = customers
        .iter()
        .find(|c| c["webshop"] == "woocommerce")
        .or_else(|| customers.first())
        .expect("the demo registers customers");
    (c["id"].as_i64().expect("an id"), c["name"].as_str().expect("a name").to_string())
}

#[test]
fn a_phone_call_from_lookup_to_copied_quote() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed (apt-get install tmux); the phone-call test needs it");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let env = [
        ("HOME", dir.path().to_path_buf()),
        ("XDG_DATA_HOME", dir.path().join("data")),
        ("XDG_CONFIG_HOME", dir.path().join("config")),
    ];
    let exports: String = env.iter().map(|(k, v)| format!("{k}={} ", shell_quote(v))).collect();
    // The shell stays after importdesk exits, so its exit status can be read off the screen.
    let command = format!(
        "env NO_COLOR=1 TERM=screen {exports}{} --db {} demo; echo \"EXITED $?\"; sleep 600",
        shell_quote(Path::new(BIN)),
        shell_quote(&db)
    );
    let tmux = Tmux { socket: format!("importdesk-test-{}", std::process::id()), session: "call".into() };
    let out = tmux.run(&["new-session", "-d", "-s", &tmux.session, "-x", "80", "-y", "24", &command]);
    assert!(out.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&out.stderr));

    // The lookup, with the demo's note in the status line.
    let screen = tmux.wait_for("the lookup", |s| s.contains("[1 Lookup]") && s.contains("Search"));
    assert!(screen.contains("demo:"), "the demo's note shows at start:\n{screen}");
    assert!(screen.contains("TYPING"), "the search field has the keys:\n{screen}");

    // Find the customer by the first word of the name, select with Enter.
    let (id, name) = first_customer(&db, &env);
    let word = name.split_whitespace().next().unwrap_or(&name).to_string();
    tmux.text(&word);
    tmux.wait_for("the search result", |s| {
        s.contains(&format!("▶ {id} {name}")) || s.contains(&format!("{id} {name}"))
    });
    let screen = tmux.wait_for("the query to settle", |s| s.contains(&format!("[{word}")));
    if !screen.contains(&format!("▶ {id} {name}")) {
        // Several names share the word: walk down to ours.
        for _ in 0..20 {
            if tmux.screen().contains(&format!("▶ {id} {name}")) {
                break;
            }
            tmux.keys(&["Down"]);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the usage pane", |s| s.contains("[2 Usage]") && s.contains("Quota"));
    assert!(screen.contains(&format!("Customer {id} {name}")), "the header names the customer:\n{screen}");
    assert!(screen.contains("Remaining"), "{screen}");

    // The planner counts the default range at the simulated shop.
    tmux.keys(&["3"]);
    let screen = tmux.wait_for("the quote or an error", |s| s.contains("Total incl. VAT") || s.contains("✗"));
    assert!(screen.contains("Total incl. VAT"), "the count should succeed against the simulator:\n{screen}");
    for line in ["Orders in range", "To import", "Extra orders", "Base fee", "VAT 25 %", "Run time", "Finishes"] {
        assert!(screen.contains(line), "the quote shows '{line}':\n{screen}");
    }
    assert!(screen.contains("DKK 600,00"), "one half hour of base fee:\n{screen}");

    // A second technician half hour, then copy.
    tmux.keys(&["+"]);
    tmux.wait_for("the fee for two half hours", |s| s.contains("2 × ½ h") && s.contains("DKK 1.200,00"));
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("the copy confirmation", |s| s.contains("saved to"));
    assert!(screen.contains("✓"), "the copy is confirmed with a marker:\n{screen}");
    let quotes = dir.path().join("data/importdesk/quotes");
    let saved: Vec<_> = std::fs::read_dir(&quotes).expect("the quotes directory exists").flatten().collect();
    assert_eq!(saved.len(), 1, "one quote saved in {}", quotes.display());
    let text = std::fs::read_to_string(saved[0].path()).unwrap();
    assert!(text.starts_with(&format!("Tilbud på import af tidligere ordrer — {name}")), "{text}");
    assert!(text.contains("Opstart og koordinering (2 × ½ time teknikertid): DKK 1.200,00"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(saved[0].path()).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Help from the live keymap, closed with Esc; then q quits cleanly.
    tmux.keys(&["?"]);
    tmux.wait_for("the help", |s| s.contains("Help — Esc closes") && s.contains("copy and save the quote"));
    tmux.keys(&["Escape"]);
    tmux.wait_for("the help to close", |s| !s.contains("Help — Esc closes"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("importdesk to exit", |s| s.contains("EXITED"));
    assert!(screen.contains("EXITED 0"), "a clean exit:\n{screen}");
}
