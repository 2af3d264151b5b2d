"""A child process that ends with its parent, however the parent ends (SIGKILL included)."""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def end_with_parent(parent_pid: int, sig: signal.Signals) -> bool:
    """Ask Linux (PR_SET_PDEATHSIG) to send `sig` to this process when `parent_pid` ends; False if it already
    has, since the request only covers a parent still alive when it is made."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, sig)
    return os.getppid() == parent_pid


def parent_named_in(variable: str) -> int | None:
    """The parent's process id, where the parent named itself in the environment `variable`."""
    value = os.environ.get(variable, "")
    return int(value) if value.isdigit() else None
