"""Big img2vid batches as parallel jobs with `start_index`, merged back into one job's status.

Pure functions (no I/O), shared by `Client.img2vid(..., split=N)` and the gateway. Each part gets the
`start_index` that gives its clips the names a single job would give (`video_1.mp4` ...), so the
merged result is the single job's.
"""

from __future__ import annotations

import re
from typing import Any

ENDED_BADLY = ("FAILED", "TIMED_OUT", "CANCELLED")
FINAL = ("COMPLETED", *ENDED_BADLY)
IMAGE_PLACE = re.compile(r"images\[(\d+)\]")
Part = tuple[str, int, int]  # the part's job id, the offset of its first image, its image count


def plan(job_input: dict[str, Any], images_per_part: int) -> list[tuple[dict[str, Any], int, int]]:
    """The parts' inputs, each with its offset and image count; one part when the batch is small enough."""
    if images_per_part < 1:  # no part could hold an image: the batch would become no job at all
        raise ValueError(f"images per part must be at least 1, got {images_per_part}.")
    images = job_input["images"]
    first = job_input.get("start_index") or 0
    return [({**job_input, "images": images[offset : offset + images_per_part], "start_index": first + offset},
             offset, len(images[offset : offset + images_per_part]))
            for offset in range(0, len(images), images_per_part)]


def in_whole_batch(error: str, offset: int) -> str:
    """A part's error with the image it names (`images[3]`) numbered as in the whole batch (also inside
    RunPod's JSON-with-traceback strings, which are decoded later)."""
    return IMAGE_PLACE.sub(lambda found: f"images[{int(found.group(1)) + offset}]", error, count=1)


def merge(job_id: str, parts: list[Part], statuses: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts' RunPod statuses as one: the first part that ended badly decides; else all COMPLETED
    gives the joined result (`videos` in input order); else progress summed over the batch."""
    states = [status.get("status") for status in statuses]
    started = [status["delayTime"] for status in statuses if "delayTime" in status]
    view: dict[str, Any] = {"id": job_id, "delayTime": min(started) if started else 0}
    running = [status["executionTime"] for status in statuses if "executionTime" in status]
    if running:
        view["executionTime"] = max(running)
    for state in ENDED_BADLY:
        if state in states:
            index = states.index(state)
            view["status"] = state
            if "error" in statuses[index]:
                view["error"] = in_whole_batch(str(statuses[index]["error"]), parts[index][1])
            return view
    outputs = [status.get("output") if isinstance(status.get("output"), dict) else {} for status in statuses]
    total = sum(count for _, _, count in parts)
    if all(state == "COMPLETED" for state in states):
        videos = [video for output in outputs for video in output.get("videos", [])]
        view["status"] = "COMPLETED"
        view["output"] = {**outputs[0], "total": total, "processed": len(videos), "videos": videos}
        return view
    view["status"] = "IN_PROGRESS" if any(state != "IN_QUEUE" for state in states) else "IN_QUEUE"
    if view["status"] == "IN_PROGRESS":
        processed = sum(output.get("processed", 0) for output in outputs)
        view["output"] = {"stage": "processing", "processed": processed, "total": total, "parts": len(parts)}
    return view


def pending_parts(parts: list[Part], statuses: list[dict[str, Any]]) -> list[str]:
    return [part for (part, _, _), status in zip(parts, statuses, strict=True) if status.get("status") not in FINAL]


# Client-side composite ids: "parts:<id>@<offset>+<count>,..." (RunPod ids hold only letters, digits, '-').
COMPOSITE = "parts:"


def composite_id(parts: list[Part]) -> str:
    return COMPOSITE + ",".join(f"{part}@{offset}+{count}" for part, offset, count in parts)


def parse_composite(job_id: str) -> list[Part] | None:
    if not job_id.startswith(COMPOSITE):
        return None
    parts = []
    for item in job_id[len(COMPOSITE) :].split(","):
        part, _, place = item.partition("@")
        offset, _, count = place.partition("+")
        parts.append((part, int(offset), int(count)))
    return parts
