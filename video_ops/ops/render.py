"""render: a whole narrated video in one job: scenes, transitions, narration, music, captions, one encode.

The picture is composed in Python as one stream of raw frames (image scenes cut by img2vid's shot
code, video scenes decoded and fitted by concatenate's clip recipe, transitions blended between
them) and streamed into a single FFmpeg that burns the captions (caption_segments' or
caption_highlight's script), mixes the sound (trilhasonora's music graph) and encodes once. Memory
stays at a few scenes whatever the length; every input is downloaded and checked first.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator, model_validator

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.base.tasks import all_or_nothing
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import FrameSide, JobInput, Operation, UrlField, describe_validation_error, within_limit
from video_ops.jobkit.results import single_output
from video_ops.media import audio as sound
from video_ops.media import clips, images
from video_ops.media.canvas import COLOUR_TAGS, Canvas
from video_ops.media.compose import Placement, SceneError, SourceOpener, Timeline, Transition, place
from video_ops.media.decoded import DecodedFrames
from video_ops.media.encoders import AAC_ARGS, Encoder
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.framefeed import frame_feed
from video_ops.media.motion import Fit, Motion
from video_ops.media.probe import MediaInfo, played_seconds, probe, require_audio
from video_ops.media.shots import Shot, paint, plan_shot, shot_frame
from video_ops.media.timing import exact_rate, frame_counts
from video_ops.ops.caption import SCRIPT_NAME, filter_value, srt_script
from video_ops.ops.caption_highlight import words_look, words_script
from video_ops.ops.caption_segments import SegmentsStyle
from video_ops.ops.img2vid import Colour
from video_ops.ops.trilhasonora import MusicOptions, MusicUnderVoice, music_length, music_under_voice
from video_ops.subtitles.fonts import choose
from video_ops.subtitles.highlight import Mode
from video_ops.subtitles.highlight_style import HighlightStyle
from video_ops.subtitles.markup import break_after_sentences

DEFAULT_MAX_SCENES = 500
SECONDS_PER_VIDEO_SECOND = 40.0  # timeout budget per second of output: far above what 1080p costs here
NARRATION, MUSIC = "narration.url", "music.url"


class Scene(StrictModel):
    """An image shown for `duration` seconds (with an img2vid camera move), or a piece of a video clip."""

    image_url: UrlField | None = None
    video_url: UrlField | None = None
    duration: float | None = Field(None, validation_alias=AliasChoices("duration", "duracao"), gt=0, le=3600)
    motion: Motion = Field("none", validation_alias=AliasChoices("motion", "zoom_type"))
    fit: Fit | None = None  # images: cover; clips: contain
    background: Colour = (0, 0, 0)
    trim_start: float = Field(0.0, ge=0, le=24 * 3600)
    volume: float | None = Field(None, ge=0, le=10)  # a clip's own sound: 1 without narration, else 0

    @model_validator(mode="after")
    def _one_source(self) -> Scene:
        if (self.image_url is None) == (self.video_url is None):
            raise ValueError("give either 'image_url' or 'video_url'")
        if self.image_url is not None:
            if self.duration is None:
                raise ValueError("an image scene needs 'duration'")
            if self.trim_start or self.volume is not None:
                raise ValueError("'trim_start' and 'volume' apply to video scenes only")
        elif self.motion != "none":
            raise ValueError("'motion' applies to image scenes only")
        return self

    @property
    def kind(self) -> Literal["image", "video"]:
        return "image" if self.image_url is not None else "video"

    @property
    def url(self) -> str:
        return self.image_url or self.video_url or ""


class TransitionOptions(StrictModel):
    type: Transition = "none"
    duration: float = Field(0.5, gt=0, le=5)


class NarrationOptions(StrictModel):
    url: UrlField
    volume: float = Field(1.0, ge=0, le=10)


class MusicUnder(MusicOptions):
    """trilhasonora's options, with the music's URL."""

    url: UrlField = Field(validation_alias=AliasChoices("url", "trilha_sonora", "url_music"))


class Captions(StrictModel):
    """An SRT drawn as caption_segments draws it, or words (or an SRT with `highlight_mode`) word by word
    as caption_highlight draws them; `style` is that operation's style."""

    srt_url: UrlField | None = None
    words_url: UrlField | None = None
    highlight_mode: Mode | None = None
    style: dict[str, Any] = Field(default_factory=dict)

    @field_validator("style")
    @classmethod
    def _style_of_its_operation(cls, style: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Checked against caption_highlight's style for words (or an SRT with a highlight mode), else
        caption_segments': the same fields, the same errors, named inside `captions.style`."""
        word_by_word = info.data.get("words_url") is not None or info.data.get("highlight_mode") is not None
        model = HighlightStyle if word_by_word else SegmentsStyle
        try:
            model.model_validate(style)
        except ValidationError as err:
            problem = describe_validation_error(err, model).removeprefix("Invalid input: ").rstrip(".")
            raise ValueError(problem.removeprefix("field ")) from None
        return style

    @model_validator(mode="after")
    def _one_source(self) -> Captions:
        if (self.srt_url is None) == (self.words_url is None):
            raise ValueError("give either 'srt_url' or 'words_url'")
        return self

    @property
    def word_by_word(self) -> bool:
        return self.words_url is not None or self.highlight_mode is not None

    @property
    def field(self) -> str:
        return "captions.words_url" if self.words_url is not None else "captions.srt_url"


class RenderInput(JobInput):
    operation: Literal["render"]
    output_filename: str | None = None
    width: FrameSide = 1920
    height: FrameSide = 1080
    frame_rate: float = Field(30, ge=1, le=120)
    scenes: list[Scene] = Field(min_length=1)
    transition: TransitionOptions = TransitionOptions()
    narration: NarrationOptions | None = None
    fit_to_narration: bool = False
    music: MusicUnder | None = None
    captions: Captions | None = None

    @field_validator("scenes", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        return within_limit(value, "VIDEO_OPS_MAX_SCENES", DEFAULT_MAX_SCENES, "scenes")

    @model_validator(mode="after")
    def _narration_to_fit(self) -> RenderInput:
        if self.fit_to_narration and self.narration is None:
            raise ValueError("'fit_to_narration' needs a 'narration'")
        return self


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


@dataclass
class Extras:
    """What burns in and sounds beside the picture, prepared before the encode."""

    script: Path | None = None
    soundtrack: MusicUnderVoice | None = None
    layout: str = "stereo"
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def scene_field(position: int) -> str:
    return f"scenes[{position}]"


async def run(ctx: JobContext, job: RenderInput) -> dict:
    filename = clean_filename(job.output_filename or f"render_{ctx.safe_job_id}.mp4")
    key = join_key(clean_prefix(job.path), filename)
    inputs = await _download_and_check(ctx, job)
    plan = plan_timeline(job, inputs)
    output = ctx.workdir / "output.mp4"
    with ctx.timed("process"):
        extras = await _prepare_extras(ctx, job, inputs, plan)
        encoder = await _encode(ctx, job, inputs, plan, extras, output)
        result = await probe(output, "output")
    stored, = await ctx.upload([(output, key)])
    return {
        **single_output("Video rendered successfully", stored, filename, result),
        "frames": plan.frames,
        "scenes": describe_scenes(job, plan),
        **extras.counts,
        **({"audio_analysis": extras.soundtrack.analysis(), "loops_applied": extras.soundtrack.bed.loops}
           if extras.soundtrack else {}),
        **encoder.describe(),
        "warnings": [*plan.warnings, *extras.warnings],
    }


async def _download_and_check(ctx: JobContext, job: RenderInput) -> Inputs:
    """All inputs at once; then every header, so a bad scene fails the job before any encoding."""
    urls = {scene_field(k): scene.url for k, scene in enumerate(job.scenes)}
    if job.narration is not None:
        urls[NARRATION] = job.narration.url
    if job.music is not None:
        urls[MUSIC] = job.music.url
    if job.captions is not None:
        urls[job.captions.field] = job.captions.words_url or job.captions.srt_url or ""
    files = await ctx.download(urls)
    image_infos: dict[int, images.ImageInfo] = {}
    video_clips: dict[int, clips.Clip] = {}

    async def check(position: int, scene: Scene) -> None:
        name, path = scene_field(position), files[scene_field(position)]
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


# The picture ---------------------------------------------------------------------------------------


class StillScene:
    """An image scene: the canvas is painted when the scene opens and freed when it closes."""

    def __init__(self, path: Path, info: images.ImageInfo, shot: Shot, background: tuple[int, int, int],
                 frames: int) -> None:
        self.shot, self.frames = shot, frames
        self.canvas: Canvas | None = paint(path, info, shot, background)
        self._still: memoryview | None = None

    def frame(self, index: int) -> memoryview:
        assert self.canvas is not None
        if self.shot.still:  # one cut serves every frame of a still scene
            if self._still is None:
                self._still = shot_frame(self.canvas, self.shot, 0, self.frames)
            return self._still
        return shot_frame(self.canvas, self.shot, index, self.frames)

    def close(self) -> None:
        self.canvas, self._still = None, None


def clip_decoder_args(clip: clips.Clip, scene: Scene, frame: clips.Frame, frames: int) -> list[str]:
    """`frames` frames of the clip from `trim_start`, fitted to the frame as concatenate fits clips,
    in BT.709 like the image scenes, as raw yuv420p."""
    return ["-ss", f"{scene.trim_start:.6f}", "-i", str(clip.path), "-map", f"0:{clip.picture.index}",
            "-vf", clips.video_filter(clip, frame, bt709=True), "-frames:v", str(frames),
            "-f", "rawvideo", "-pix_fmt", "yuv420p"]


def scene_openers(job: RenderInput, inputs: Inputs, plan: Plan, workdir: Path) -> list[SourceOpener]:
    size = (job.width, job.height)
    frame_bytes = job.width * job.height * 3 // 2
    openers: list[SourceOpener] = []
    for position, (scene, frames) in enumerate(zip(job.scenes, plan.counts, strict=True)):
        if scene.kind == "image":
            path, info = inputs.scene_file(position), inputs.images[position]
            shot = plan_shot(info, size, scene.fit or "cover", scene.motion)
            openers.append(lambda p=path, i=info, s=shot, b=scene.background, n=frames: StillScene(p, i, s, b, n))
        else:
            frame = clips.Frame(job.width, job.height, plan.rate, scene.fit or "contain", scene.background)
            args = clip_decoder_args(inputs.clips[position], scene, frame, frames)
            openers.append(lambda a=args: DecodedFrames(a, frame_bytes, workdir))
    return openers


# Captions and sound, prepared before the encode ------------------------------------------------------


async def _prepare_extras(ctx: JobContext, job: RenderInput, inputs: Inputs, plan: Plan) -> Extras:
    extras = Extras(layout=sound.mix_layout(inputs.narration.audio.channels if inputs.narration else None,
                                            inputs.music.audio.channels if inputs.music else 2))
    if job.captions is not None:
        await _write_captions(ctx, job.captions, inputs, plan, (job.width, job.height), extras)
    if job.music is not None and inputs.music is not None:
        music_s = music_length(inputs.music, MUSIC)
        with ctx.timed("analysis"):
            levels = await sound.measure_levels(inputs.files.get(NARRATION), inputs.files[MUSIC],
                                                seconds=plan.seconds, layout=extras.layout, workdir=ctx.workdir)
        extras.soundtrack = music_under_voice(job.music, levels, length_s=plan.seconds, music_s=music_s,
                                              layout=extras.layout)
    return extras


async def _write_captions(ctx: JobContext, captions: Captions, inputs: Inputs, plan: Plan, size: tuple[int, int],
                          extras: Extras) -> None:
    script = ctx.workdir / SCRIPT_NAME
    source = inputs.files[captions.field]
    if captions.word_by_word:
        chosen = await words_look(HighlightStyle.model_validate(captions.style), captions.highlight_mode or "box",
                                  "captions.")
        written = await asyncio.to_thread(words_script, source, captions.field, captions.srt_url is not None,
                                          chosen, plan.seconds, size, script)
        extras.counts = {"words": written["words"], "captions": written["captions"]}
        extras.warnings += [*chosen.warnings, *written["warnings"]]
    else:
        style = SegmentsStyle.model_validate(captions.style)
        family, warning = await asyncio.to_thread(choose, style.font.name, "captions.style.font.name")
        cues, notes = await srt_script(source, captions.field, style.look(family), plan.seconds, size, script,
                                       text=break_after_sentences)
        extras.counts = {"captions": cues}
        extras.warnings += [*([warning] if warning else []), *notes]
    extras.script = script


def clip_volume(job: RenderInput, scene: Scene) -> float:
    """A clip's own sound: as asked, else kept without a narration and dropped under one."""
    if scene.volume is not None:
        return scene.volume
    return 1.0 if job.narration is None else 0.0


def sound_inputs(job: RenderInput, inputs: Inputs) -> tuple[list[list[str]], dict[str, int]]:
    """The audio inputs after the frames (input 0): their argv and their input numbers by name."""
    args: list[list[str]] = []
    numbers: dict[str, int] = {}
    for name in (NARRATION, MUSIC):
        if name in inputs.files:
            numbers[name] = len(args) + 1
            args.append(["-i", str(inputs.files[name])])
    for position, scene in enumerate(job.scenes):
        clip = inputs.clips.get(position)
        if clip is not None and clip.audio is not None and clip_volume(job, scene) > 0:
            numbers[scene_field(position)] = len(args) + 1
            args.append(["-ss", f"{scene.trim_start:.6f}", "-i", str(clip.path)])
    return args, numbers


def audio_graph(job: RenderInput, inputs: Inputs, plan: Plan, extras: Extras, numbers: dict[str, int]) -> str | None:
    """Narration at its level, the clips' own sound where each clip is on screen, the music under both
    (ducked by the narration when asked); None when there is nothing to hear."""
    parts: list[str] = []
    voices: list[str] = []
    if NARRATION in numbers:
        assert job.narration is not None
        parts.append(f"[{numbers[NARRATION]}:a]volume={job.narration.volume:g}[narration]")
        voices.append("narration")
    clip_parts = [k for k in range(len(job.scenes)) if scene_field(k) in numbers]
    if clip_parts:
        parts.append(_clip_sound(job, inputs, plan, numbers, extras.layout, "clipsound"))
        voices.append("clipsound")
    voice: str | None = None
    if len(voices) == 2:
        parts.append("[narration][clipsound]amix=inputs=2:duration=longest:normalize=0[voice]")
        voice = "voice"
    elif voices:
        voice = voices[0]
    if extras.soundtrack is not None:
        parts.append(extras.soundtrack.graph(f"{numbers[MUSIC]}:a", voice, "aout"))
    elif voice is not None:
        limit = f"{sound.limiter()}," if len(voices) == 2 else ""
        parts.append(f"[{voice}]{limit}apad[aout]")
    else:
        return None
    return ";".join(parts)


def _clip_sound(job: RenderInput, inputs: Inputs, plan: Plan, numbers: dict[str, int], layout: str,
                out: str) -> str:
    """The clips' own sound end to end, each scene's part from its start to the next scene's start
    (silence for images and muted clips), sample-exact, so it never drifts from the picture."""
    fmt = clips.Sound(sound.SAMPLE_RATE, layout)
    starts = [p.start for p in plan.placements]
    steps = [(end - start) / plan.rate for start, end in itertools.pairwise([*starts, plan.frames])]
    chains, labels = [], []
    for position, samples in enumerate(clips.sample_counts(steps, fmt.sample_rate)):
        name = scene_field(position)
        source = None
        if name in numbers:
            clip = inputs.clips[position]
            source = f"{numbers[name]}:{clip.audio.index}" if clip.audio is not None else None
        label = f"{out}{position}"
        chains.append(clips.audio_chain(source, samples, fmt, label))
        if source is not None:
            chains.append(f"[{label}]volume={clip_volume(job, job.scenes[position]):g}[{label}v]")
            label += "v"
        labels.append(f"[{label}]")
    return ";".join([*chains, f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1[{out}]"])


def encode_args(url: str, job: RenderInput, inputs: Inputs, plan: Plan, extras: Extras, output: Path,
                encoder: Encoder) -> list[str]:
    """Input 0: the composed frames; then the narration, the music and the clips' sound. The sound always
    comes out (silence when there is nothing to hear), exactly as long as the picture."""
    rate = f"{plan.rate.numerator}/{plan.rate.denominator}"
    args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{job.width}x{job.height}",
            "-framerate", rate, "-i", url]
    extra_inputs, numbers = sound_inputs(job, inputs)
    args += [part for one in extra_inputs for part in one]
    graph = audio_graph(job, inputs, plan, extras, numbers)
    if graph is None:
        args += ["-f", "lavfi", "-i", f"anullsrc=channel_layout=stereo:sample_rate={sound.SAMPLE_RATE}"]
        graph = f"[{len(extra_inputs) + 1}:a]anull[aout]"
    picture = "[0:v]null[vout]"
    if extras.script is not None:
        picture = f"[0:v]ass=filename={filter_value(str(extras.script))}[vout]"
    # No `-frames:v`: the feed sends exactly the plan's frames, and in FFmpeg 5.1 a stream reaching its
    # frame limit ends the whole output, cutting the sound short; `-t` ends both streams exactly.
    args += ["-filter_complex", f"{picture};{graph}", "-map", "[vout]", "-map", "[aout]",
             *encoder.video_args(), "-r", rate, *COLOUR_TAGS,
             *AAC_ARGS, "-t", f"{plan.seconds:.6f}", "-movflags", "+faststart", str(output)]
    return args


async def _encode(ctx: JobContext, job: RenderInput, inputs: Inputs, plan: Plan, extras: Extras,
                  output: Path) -> Encoder:
    timeline = Timeline(plan.placements, scene_openers(job, inputs, plan, ctx.workdir), job.transition.type,
                        plan.overlap, (job.width, job.height))
    try:
        async with frame_feed(plan.frames, timeline.frame) as url:
            return await ctx.encode(
                lambda encoder: encode_args(url, job, inputs, plan, extras, output, encoder),
                step="rendering", timeout=step_timeout(plan.seconds, SECONDS_PER_VIDEO_SECOND),
                duration=plan.seconds,
            )
    except SceneError as err:
        raise JobError(f"{scene_field(err.position)}: {err.cause}") from None
    finally:
        await asyncio.to_thread(timeline.close)


OPERATION = Operation(name="render", input_model=RenderInput, run=run)
