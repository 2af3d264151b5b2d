#!/usr/bin/env bash
# Installs what the worker and its tests need on a fresh Debian/Ubuntu machine: FFmpeg and fonts
# from Debian's packages (only when missing), espeak-ng and alsa-utils (speech the transcription tests
# make and the human voices they hear), then a virtualenv in .venv with the package.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v ffmpeg >/dev/null 2>&1 || apt_packages+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || apt_packages+=(ffmpeg)
for package in $(grep -v '^#' scripts/font-packages.txt) espeak-ng alsa-utils; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || apt_packages+=("$package")
done
if [ ${#apt_packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

# The package is installed editable, so code changes need no reinstall: only a new virtualenv or a
# changed pyproject.toml does (the stamp holds the hash of the pyproject.toml last installed).
stamp=.venv/.installed-pyproject
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[worker,gateway,test]'
  echo "$wanted" > "$stamp"
fi
