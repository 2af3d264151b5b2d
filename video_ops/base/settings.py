"""Environment settings, read at call time so a running worker and the tests see changes."""

from __future__ import annotations

import os

from video_ops.base.errors import JobError

_TRUE = {"1", "true", "yes", "on"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip() or default


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return raw.strip().lower() in _TRUE


def env_float(name: str, default: float, *, zero_allowed: bool = False) -> float:
    """A positive number from the environment (or 0, where 0 turns something off); a malformed one is an
    operator error worth stating."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise JobError(f"Environment variable {name} must be a number, got {raw!r}.") from None
    if value < 0 or (value == 0 and not zero_allowed):
        raise JobError(f"Environment variable {name} must be {'0 or more' if zero_allowed else 'positive'}, "
                       f"got {raw!r}.")
    return value


def env_int(name: str, default: int, *, zero_allowed: bool = False) -> int:
    """A positive whole number (or 0 where allowed): a fraction is refused, not cut down (0.5 images per part
    would have been 0)."""
    value = env_float(name, default, zero_allowed=zero_allowed)
    if not float(value).is_integer():
        raise JobError(f"Environment variable {name} must be a whole number, got {os.environ[name]!r}.")
    return int(value)


def is_deployed() -> bool:
    """True inside RunPod's job loop (or the local endpoint), false for `python handler.py` runs."""
    return bool(os.environ.get("RUNPOD_WEBHOOK_GET_JOB"))
