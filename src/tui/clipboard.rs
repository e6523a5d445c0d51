//! Handing a quote over: OSC 52 puts it on the clipboard of the terminal the support person
//! sits at (through SSH and tmux), and a private file keeps it whatever the terminal does.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crossterm::clipboard::CopyToClipboard;

/// `$XDG_DATA_HOME/importdesk/quotes`, where copied quotes are saved.
pub fn quotes_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "importdesk").map(|d| d.data_dir().join("quotes"))
}

/// Writes `text` to `dir/file_name`: the directory 0700, the file 0600 (quotes name
/// customers and prices).
pub fn save_quote(dir: &Path, file_name: &str, text: &str) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(file_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        options.mode(0o600);
        let mut file = options.open(&path)?;
        // The mode above applies only to a new file; an old one is tightened too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let mut file = options.open(&path)?;
        file.write_all(text.as_bytes())?;
    }
    Ok(path)
}

/// Sends the OSC 52 sequence that asks the terminal to put `text` on its clipboard.
pub fn copy_osc52(out: &mut impl Write, text: &str) -> io::Result<()> {
    crossterm::execute!(out, CopyToClipboard::to_clipboard_from(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_quotes_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let quotes = dir.path().join("quotes");
        let path = save_quote(&quotes, "tilbud.txt", "Tilbud på import").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "Tilbud på import");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&quotes), 0o700);
        }
        // Saving again replaces the text.
        save_quote(&quotes, "tilbud.txt", "v2").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "v2");
    }

    #[test]
    fn osc52_carries_the_text_base64_encoded() {
        let mut out = Vec::new();
        copy_osc52(&mut out, "hej").unwrap();
        let seq = String::from_utf8(out).unwrap();
        assert!(seq.starts_with("\x1b]52;c;aGVq"), "{seq:?}");
    }
}
