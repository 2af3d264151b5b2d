#!/usr/bin/env bash
# Runs the worker's sample job (test_input.json) locally: no cloud account, output under ./output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
RUNPOD_LOG_LEVEL="${RUNPOD_LOG_LEVEL:-INFO}" VIDEO_OPS_ALLOW_FILE_URLS=1 .venv/bin/python handler.py
