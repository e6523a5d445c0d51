#!/usr/bin/env bash
# Makes screenshots/*.png from the real program: `importdesk demo` in tmux, driven by keys,
# captured with colours and rendered by scripts/ansi_to_png.py. Needs tmux and python3
# (Pillow is installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v tmux >/dev/null || { echo "tmux is needed: apt-get install -y tmux" >&2; exit 1; }
python3 -c "import PIL" 2>/dev/null || python3 -m pip install --quiet pillow
cargo build --release --quiet
bin=target/release/importdesk
work=$(mktemp -d)
trap 'tmux kill-session -t shots 2>/dev/null || true; rm -rf "$work"' EXIT

shot() { # name cols rows
  tmux capture-pane -e -p -t shots > "$work/$1.txt"
  python3 scripts/ansi_to_png.py "$work/$1.txt" "screenshots/$1.png" "$2" "$3"
  echo "screenshots/$1.png"
}

wait_for() { # text
  for _ in $(seq 1 100); do
    tmux capture-pane -p -t shots | grep -q -- "$1" && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$1'" >&2
  tmux capture-pane -p -t shots >&2
  return 1
}

for size in 80x24 160x48; do
  cols=${size%x*}; rows=${size#*x}
  tmux kill-session -t shots 2>/dev/null || true
  tmux new-session -d -s shots -x "$cols" -y "$rows" "$bin demo --db $work/demo-$size.db"
  wait_for "customers"
  tmux send-keys -t shots "hygge"
  wait_for "Hyggehjem"
  shot "lookup-$size" "$cols" "$rows"
  tmux send-keys -t shots Enter
  if [ "$cols" -lt 140 ]; then tmux send-keys -t shots 2; fi
  wait_for "Quota"
  tmux send-keys -t shots t 1 5 0 0
  sleep 0.5
  shot "usage-$size" "$cols" "$rows"
  # Esc and a key sent together read as Alt-key: give the terminal a moment between them.
  tmux send-keys -t shots Escape; sleep 0.3; tmux send-keys -t shots 3
  wait_for "Total incl. VAT"
  sleep 1.5
  shot "planner-$size" "$cols" "$rows"
  tmux send-keys -t shots q
done
