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

db="$work/demo.db"
cli() { "$bin" --db "$db" "$@"; }

for size in 80x24 160x48; do
  cols=${size%x*}; rows=${size#*x}
  tmux kill-session -t shots 2>/dev/null || true
  tmux new-session -d -s shots -x "$cols" -y "$rows" "$bin demo --db $db"
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

  if [ "$size" = 80x24 ]; then
    # A small import of the customer's last days before the integration, run by a detached
    # worker as support staff would start it, against the demo's simulated e-conomic.
    id=$(cli customer list --json | python3 -c 'import json,sys; print(next(c["id"] for c in json.load(sys.stdin)["customers"] if c["name"].startswith("Hyggehjem")))')
    since=$(cli customer list --json | python3 -c 'import json,sys; print(next(c["since"] for c in json.load(sys.stdin)["customers"] if c["name"].startswith("Hyggehjem")))')
    from=$(date -d "$since -3 days" +%F); to=$(date -d "$since -1 day" +%F)
    job=$(cli job create --customer "$id" --from "$from" --to "$to" 2>/dev/null)
    cli job accept "$job" --by "Mette (support)" --reference "mail 3/12" >/dev/null
    cli job test "$job" >/dev/null
    cli job approve "$job" --by "Kunden" >/dev/null
    cli job start "$job" >/dev/null
    tmux send-keys -t shots 4
    sleep 12
    shot "log-running-$size" "$cols" "$rows"
    for _ in $(seq 1 300); do
      cli job status "$job" --json | grep -q '"state": "finished"' && break
      sleep 1
    done
  fi
  tmux send-keys -t shots 4
  sleep 2
  shot "log-$size" "$cols" "$rows"
  tmux send-keys -t shots 5
  wait_for "missing"
  shot "failures-$size" "$cols" "$rows"
  tmux send-keys -t shots Enter
  sleep 0.5
  shot "failure-group-$size" "$cols" "$rows"
  tmux send-keys -t shots Enter
  sleep 0.5
  shot "failure-detail-$size" "$cols" "$rows"
  tmux send-keys -t shots Escape; sleep 0.3; tmux send-keys -t shots Escape; sleep 0.3
  tmux send-keys -t shots q
  sleep 1
done
