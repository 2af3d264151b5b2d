"""Every input downloaded and checked before any encoding, then the timeline in whole frames."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from video_ops.base.errors import JobError
from video_ops.base.tasks import all_or_nothing
from video_ops.jobkit.context import JobContext
from video_ops.media import clips, images
from video_ops.media.compose import Placement, place
from video_ops.media.probe import MediaInfo, played_seconds, probe, require_audio
from video_ops.media.timing import exact_rate, frame_counts
from video_ops.ops.caption_highlight import words_cap
from video_ops.ops.render.model import JOIN_SOUND, MUSIC, NARRATION, RenderInput, Scene, join_field, scene_field


@dataclass(frozen=True)
class Inputs:
    """Every downloaded file, checked: what each scene is, the narration and the music."""

    files: dict[str, Path]
    images: dict[int, images.ImageInfo]
    clips: dict[int, clips.Clip]
    narration: MediaInfo | None
    music: MediaInfo | None
    narration_s: float | None  # as it plays (decoded), when the picture is fitted to it

    def scene_file(self, position: int) -> Path:
        return self.files[scene_field(position)]

    def adding(self, more: Inputs) -> Inputs:
        """These inputs and those of a later download (a part fetches its own scenes once it is planned)."""
        return Inputs({**self.files, **more.files}, {**self.images, **more.images}, {**self.clips, **more.clips},
                      self.narration or more.narration, self.music or more.music, self.narration_s or more.narration_s)


@dataclass(frozen=True)
class Plan:
    """The timeline in frames: each scene's length and place, the transition overlap, the total."""

    rate: Fraction
    counts: list[int]
    overlap: int
    warnings: list[str] = field(default_factory=list)

    @property
    def placements(self) -> list[Placement]:
        return place(self.counts, self.overlap)

    @property
    def frames(self) -> int:
        return sum(self.counts) - self.overlap * (len(self.counts) - 1)

    @property
    def seconds(self) -> float:
        return float(self.frames / self.rate)


def input_urls(job: RenderInput) -> dict[str, str]:
    """Every input the job names, by its field."""
    urls = {scene_field(k): scene.url for k, scene in enumerate(job.scenes)}
    if job.narration is not None:
        urls[NARRATION] = job.narration.url
    if job.music is not None:
        urls[MUSIC] = job.music.url
    if job.captions is not None and job.captions.url is not None:
        urls[job.captions.field] = job.captions.url
    if job.join is not None:
        urls.update({join_field(k): url for k, url in enumerate(job.join.parts)}, **{JOIN_SOUND: job.join.sound})
    return urls


def planning_fields(job: RenderInput) -> set[str]:
    """What the timeline depends on: the clips' lengths, and the narration's when the picture fits it."""
    fields = {scene_field(k) for k, scene in enumerate(job.scenes) if scene.kind == "video"}
    return fields | ({NARRATION} if job.fit_to_narration else set())


def caption_fields(job: RenderInput) -> set[str]:
    """What the captions are drawn from: their file, or the narration they are heard from; none without captions."""
    if job.captions is None:
        return set()
    return {NARRATION if job.captions.from_narration else job.captions.field}


async def download_and_check(ctx: JobContext, job: RenderInput,
                             wanted: Collection[str] | None = None) -> Inputs:
    """All inputs (or the `wanted` ones) at once; then every header, so a bad scene fails the job before
    any encoding."""
    urls = {name: url for name, url in input_urls(job).items()
            if wanted is None or name in wanted}
    caps = {}
    if job.captions is not None and job.captions.field in urls:
        caps[job.captions.field] = words_cap(job.captions.srt_url is not None)
    files = await ctx.download(urls, caps)
    image_infos: dict[int, images.ImageInfo] = {}
    video_clips: dict[int, clips.Clip] = {}

    async def check(position: int, scene: Scene) -> None:
        name = scene_field(position)
        if name not in files:
            return
        path = files[name]
        if scene.kind == "image":
            try:
                image_infos[position] = await asyncio.to_thread(images.inspect, path)
            except JobError as err:
                raise JobError(f"{name}: {err}") from None
        else:
            video_clips[position] = clips.read_clip(await probe(path, name), path, name)

    async def audio(name: str) -> MediaInfo | None:
        if name not in files:
            return None
        info = await probe(files[name], name)
        require_audio(info, name)
        return info

    *_, narration, music = await all_or_nothing(*(check(k, s) for k, s in enumerate(job.scenes)),
                                                audio(NARRATION), audio(MUSIC))
    narration_s = None
    if job.fit_to_narration and narration is not None:
        narration_s = await played_seconds(files[NARRATION], require_audio(narration, NARRATION), NARRATION)
    return Inputs(files, image_infos, video_clips, narration, music, narration_s)


def plan_timeline(job: RenderInput, inputs: Inputs) -> Plan:
    """Scene lengths in whole frames, overlapped by the transition, optionally stretched to the narration."""
    rate = exact_rate(job.frame_rate)
    warnings: list[str] = []
    durations = [_scene_seconds(job, inputs, k, warnings) for k in range(len(job.scenes))]
    overlap = 0
    if job.transition.type != "none" and len(job.scenes) > 1:
        overlap = max(1, round(job.transition.duration * rate))
    if job.fit_to_narration:
        assert inputs.narration_s is not None
        narration_s = Fraction(str(inputs.narration_s))
        target = round(narration_s * rate) + overlap * (len(durations) - 1)
        factor = Fraction(target) / rate / sum(durations, Fraction(0))
        durations = [d * factor for d in durations]
    counts = frame_counts(durations, rate)
    needed = 2 * overlap if overlap else 1
    for position, frames in enumerate(counts):
        if frames < needed:
            raise JobError(
                f"{scene_field(position)}.duration: {float(durations[position]):.3g} s is {frames} "
                f"frame{'' if frames == 1 else 's'} at "
                f"{job.frame_rate:g} fps; a scene needs at least {needed} ("
                + ("twice the transition" if overlap else "one frame") + ")."
            )
    return Plan(rate, counts, overlap, warnings)


def _scene_seconds(job: RenderInput, inputs: Inputs, position: int, warnings: list[str]) -> Fraction:
    scene = job.scenes[position]
    if scene.kind == "image":
        return Fraction(str(scene.duration))
    name = scene_field(position)
    available = inputs.clips[position].seconds
    if scene.trim_start >= available:
        raise JobError(f"{name}.trim_start: {scene.trim_start:g} s is past the clip's end ({available:.3f} s).")
    left = available - scene.trim_start
    if scene.duration is None:
        return Fraction(str(round(left, 6)))
    if scene.duration > left + 1e-3:
        warnings.append(f"{name}: the clip has {left:.3f} s after trim_start, less than the scene's "
                        f"{scene.duration:g} s; its last frame is held.")
    return Fraction(str(scene.duration))


def describe_scenes(job: RenderInput, plan: Plan) -> list[dict[str, Any]]:
    """Where each scene starts and ends in the output, in seconds (transitions overlap neighbours)."""
    return [
        {"index": k, "type": scene.kind, "start": round(float(p.start / plan.rate), 6),
         "end": round(float(p.end / plan.rate), 6), "frames": p.frames}
        for k, (scene, p) in enumerate(zip(job.scenes, plan.placements, strict=True))
    ]
