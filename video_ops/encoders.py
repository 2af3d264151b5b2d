"""Which H.264 encoder this worker uses, and the argv that makes it write web-playable MP4."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Encoder:
    name: str
    fallback_reason: str | None = None

    def video_args(self) -> list[str]:
        """Encoder options; every output is 8-bit 4:2:0 so browsers and phones play it."""
        return ["-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p"]

    def describe(self) -> dict[str, str]:
        info = {"encoder": self.name}
        if self.fallback_reason:
            info["encoder_fallback_reason"] = self.fallback_reason
        return info


def current_encoder() -> Encoder:
    return Encoder("libx264")
