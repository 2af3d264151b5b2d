"""Prints this machine's pip settings as a pip.conf for the image build (scripts/image.sh passes it as a
build secret). Only what means the same inside the build is kept: remote indexes, trusted hosts, proxy
and timeouts. Local paths (find-links folders, constraint files, file: indexes) and the CA bundle, which
the build gets on its own, are left out."""

from __future__ import annotations

import subprocess
import sys

KEPT = {"index-url", "extra-index-url", "trusted-host", "proxy", "timeout", "default-timeout", "retries"}
URL_KEYS = {"index-url", "extra-index-url", "proxy"}


def machine_settings() -> dict[str, str]:
    """`pip config list` lines (`global.index-url='…'`, `:env:.timeout='…'`), later ones winning."""
    try:
        listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}  # a Python without pip: nothing to pass on
    settings: dict[str, str] = {}
    for line in listed.splitlines():
        name, _, value = line.partition("=")
        key = name.rsplit(".", 1)[-1]
        if key in KEPT:
            settings[key] = value.strip().strip("'\"")
    return settings


def portable(key: str, value: str) -> str:
    words = value.split()
    if key in URL_KEYS:
        words = [word for word in words if word.startswith(("http://", "https://"))]
    return " ".join(words)


def main() -> None:
    lines = ["[global]"]
    for key, value in sorted(machine_settings().items()):
        kept = portable(key, value)
        if kept:
            lines.append(f"{key} = {kept}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
