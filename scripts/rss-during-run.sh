#!/bin/bash
# Memory of a run over time: starts `dare run SCENARIO --run-dir DIR --steps N` and prints, every 5 s,
# "step RssAnon_kB RssFile_kB" from /proc (Linux). RssAnon is the heap and native memory; RssFile the
# memory-mapped log (data.mdb), which grows with the log and is dropped by the kernel under pressure.
# Usage: scripts/rss-during-run.sh SCENARIO DIR STEPS
set -eu
SCENARIO=$1; DIR=$2; STEPS=$3
OUT=$(mktemp)
node "$(dirname "$0")/../cli/dare.js" run "$SCENARIO" --run-dir "$DIR" --steps "$STEPS" > "$OUT" 2>&1 &
PID=$!
while kill -0 "$PID" 2>/dev/null; do
  step=$(grep -o '"step":[0-9]*,"of"' "$OUT" | tail -1 | tr -dc 0-9 || true)
  anon=$(grep RssAnon /proc/$PID/status 2>/dev/null | tr -dc 0-9 || true)
  file=$(grep RssFile /proc/$PID/status 2>/dev/null | tr -dc 0-9 || true)
  [ -n "$anon" ] && echo "${step:-0} $anon $file"
  sleep 5
done
wait "$PID"
