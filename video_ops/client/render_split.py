"""A long render as parts rendered side by side, then one join, answered as one job (docs/render.md).

Pure (no I/O), shared by `Client.render(..., split_seconds=N)` and the gateway, which drive it: a
`plan_only` job gives the timeline in frames; it is cut between scenes (never inside a transition)
into frame ranges of about N seconds, each a `part` job, sent with one `sound_only` job that mixes the
sound once for the whole timeline; when all are done, a `join` job copies the parts' pictures end to
end and the sound beside them. `step` turns the current jobs' RunPod statuses into the one job's
status and the jobs to submit next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

ENDED_BADLY = ("FAILED", "TIMED_OUT", "CANCELLED")
PICTURE_SHARE = 95  # percent of the progress that the parts and the sound make; the join, a copy, the rest
# What the joined result takes from the others': the parts' encoder, the sound job's music.
CARRIED_FIELDS = ("encoder", "encoder_fallback_reason", "audio_analysis", "loops_applied")


def timeline_seconds(job_input: dict[str, Any]) -> float | None:
    """The timeline's length as the input says it, or None when only the media know it (a clip without
    `duration`, `fit_to_narration`)."""
    scenes = job_input.get("scenes") or []
    durations = [scene.get("duration", scene.get("duracao")) for scene in scenes if isinstance(scene, dict)]
    if job_input.get("fit_to_narration") or len(durations) != len(scenes) or None in durations:
        return None
    transition = job_input.get("transition") or {}
    overlap = transition.get("duration", 0.5) if transition.get("type", "none") != "none" else 0.0
    return float(sum(durations)) - overlap * (len(scenes) - 1)


def worth_splitting(job_input: dict[str, Any], seconds: float) -> bool:
    """A render that may be longer than `seconds` (when unsure, the plan decides). Captions heard from the
    narration keep a render whole: every part would transcribe the whole narration again."""
    if job_input.get("operation") != "render" or seconds <= 0:
        return False
    if any(job_input.get(key) for key in ("plan_only", "part", "join")):
        return False
    if (job_input.get("captions") or {}).get("from_narration"):
        return False
    length = timeline_seconds(job_input)
    return length is None or length > seconds


def cut(plan: dict[str, Any], seconds: float) -> list[tuple[int, int]]:
    """Frame ranges of at most about `seconds`, cut where a scene gives way to the next outside its
    transition, or, when no such place is near, inside a scene (frame-exact; never inside a transition)."""
    total, overlap = int(plan["frames"]), int(plan["overlap"])
    target = max(1, round(seconds * Fraction(plan["frame_rate"])))
    parts = max(1, math.ceil(total / target))
    starts, ends, start = [], [], 0
    for scene in plan["scenes"]:
        starts.append(start)
        ends.append(start + int(scene["frames"]))
        start += int(scene["frames"]) - overlap
    places = sorted({*starts[1:], *ends[:-1]})  # a transition's first frame or the one after its last
    blends = list(zip(starts[1:], ends[:-1], strict=True))
    cuts = [0]
    for number in range(1, parts):
        ideal = round(number * total / parts)
        nearest = min(places, key=lambda place: abs(place - ideal), default=ideal)
        chosen = nearest if abs(nearest - ideal) <= target // 4 else _outside_blends(ideal, blends)
        if cuts[-1] < chosen < total:
            cuts.append(chosen)
    return list(zip(cuts, [*cuts[1:], total], strict=True))


def _outside_blends(frame: int, blends: list[tuple[int, int]]) -> int:
    for first, after in blends:
        if first < frame < after:
            return first if frame - first <= after - frame else after
    return frame


def part_input(job_input: dict[str, Any], frames: tuple[int, int], index: int) -> dict[str, Any]:
    return {**job_input, "part": {"start_frame": frames[0], "end_frame": frames[1], "index": index}}


def sound_input(job_input: dict[str, Any]) -> dict[str, Any]:
    return {**job_input, "sound_only": True}


def join_input(job_input: dict[str, Any], sound: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The join of the parts' and the sound job's results."""
    return {**job_input, "join": {"parts": [part["video_url"] for part in parts], "sound": sound["audio_url"]}}


@dataclass
class RenderSplit:
    """Where a split render is: its plan job, then its sound job and parts (id, first frame, end frame), then
    its last job (the join, or the whole render when the plan found it short); JSON-able as `vars()`."""

    job_input: dict[str, Any]
    seconds: float
    plan_id: str = ""
    sound_id: str = ""
    parts: list[tuple[str, int, int]] = field(default_factory=list)
    last_id: str = ""
    carried: dict[str, Any] = field(default_factory=dict)  # the parts' encoder and the music, for the result
    cancelled: bool = False

    @classmethod
    def start(cls, job_input: dict[str, Any], seconds: float, name: str) -> RenderSplit:
        """A split whose final video has a name known before any part: the parts are stored beside it."""
        named = {**job_input, "output_filename": job_input.get("output_filename") or f"render_{name}.mp4"}
        return cls(named, seconds)

    def plan_input(self) -> dict[str, Any]:
        return {**self.job_input, "plan_only": True}

    def current(self) -> list[str]:
        """The jobs whose statuses `step` reads now, in timeline order."""
        if self.last_id:
            return [self.last_id]
        return [self.sound_id, *(part for part, _, _ in self.parts)] if self.parts else [self.plan_id]

    def submitted(self, inputs: list[dict[str, Any]], ids: list[str]) -> None:
        """Record the jobs `step` asked for."""
        if inputs[0].get("sound_only"):
            self.sound_id = ids[0]
            self.parts = [(job_id, one["part"]["start_frame"], one["part"]["end_frame"])
                          for one, job_id in zip(inputs[1:], ids[1:], strict=True)]
        else:
            self.last_id = ids[0]

    def step(self, job_id: str, statuses: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The one job's status from the current jobs' statuses (in `current` order), and the inputs of the
        jobs to submit now (then call `submitted`). The first job that ended badly decides."""
        states = [status.get("status") for status in statuses]
        for state in ENDED_BADLY:
            if state in states:
                failed = statuses[states.index(state)]
                return {"id": job_id, "status": state, **({"error": failed["error"]} if "error" in failed else {})}, []
        if self.cancelled:
            return {"id": job_id, "status": "CANCELLED"}, []
        outputs = [status.get("output") if isinstance(status.get("output"), dict) else {} for status in statuses]
        done = all(state == "COMPLETED" for state in states)
        if self.last_id:
            if done:
                return {"id": job_id, "status": "COMPLETED", "output": {**outputs[0], **self.carried}}, []
            share = PICTURE_SHARE if self.parts else 0
            return _running(job_id, "joining" if self.parts else "rendering",
                            share + _percent(states[0], outputs[0]) * (100 - share) / 100, len(self.parts)), []
        if self.parts:
            if done:
                sound, parts = outputs[0], outputs[1:]
                self.carried = {key: value for key, value in {**parts[0], **sound}.items()
                                if key in CARRIED_FIELDS}
                return (_running(job_id, "joining", PICTURE_SHARE, len(self.parts)),
                        [join_input(self.job_input, sound, parts)])
            mean = sum(_percent(state, output) for state, output in zip(states, outputs, strict=True)) / len(states)
            view = _running(job_id, "rendering", mean * PICTURE_SHARE / 100, len(self.parts))
            return {**view, "status": "IN_PROGRESS" if set(states) != {"IN_QUEUE"} else "IN_QUEUE"}, []
        if done:
            ranges = cut(outputs[0], self.seconds)
            if len(ranges) == 1:  # short enough after all: one ordinary render
                return _running(job_id, "rendering", 0, 0), [self.job_input]
            return (_running(job_id, "rendering", 0, len(ranges)),
                    [sound_input(self.job_input), *(part_input(self.job_input, frames, k)
                                                    for k, frames in enumerate(ranges))])
        return {"id": job_id, "status": states[0] or "IN_QUEUE", "output": {"stage": "planning"}}, []


def _running(job_id: str, stage: str, percent: float, parts: int) -> dict[str, Any]:
    return {"id": job_id, "status": "IN_PROGRESS",
            "output": {"stage": stage, "percent": round(percent), **({"parts": parts} if parts else {})}}


def _percent(state: str | None, output: dict[str, Any]) -> float:
    """How far one job is: its encode's percent while it runs, 100 once it uploads or is done."""
    if state == "COMPLETED" or output.get("stage") == "uploading":
        return 100.0
    return float(output.get("percent", 0)) if output.get("stage") == "processing" else 0.0
