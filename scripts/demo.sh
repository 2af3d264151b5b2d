#!/usr/bin/env bash
# Runs one sample job locally on the bundled media: no cloud account, output under ./output.
#   bash scripts/demo.sh           the addaudio sample
#   bash scripts/demo.sh NAME      samples/jobs/NAME.json (one per operation, and render_long)
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-addaudio}"
job="samples/jobs/${name}.json"
if [ ! -f "$job" ]; then
  echo "demo: no sample job '${name}'; available: $(cd samples/jobs && ls ./*.json | sed 's|^\./||; s|\.json$||' | tr '\n' ' ')" >&2
  exit 2
fi
bash scripts/setup.sh
input="$(cat "$job")"
if grep -q '"transcribe"' "$job"; then
  # Offline, the asked Whisper model gives way to the tiny.en the test extra ships (said on stderr).
  input="$(.venv/bin/python scripts/demo_whisper.py "$job")"
fi
RUNPOD_LOG_LEVEL="${RUNPOD_LOG_LEVEL:-INFO}" VIDEO_OPS_ALLOW_FILE_URLS=1 \
  .venv/bin/python handler.py --test_input "$input"
