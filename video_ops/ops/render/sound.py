"""The render's sound: the narration at its level, each clip's own sound while it is on screen, and
trilhasonora's music graph under both, as one filter graph of the final encode."""

from __future__ import annotations

import itertools

from video_ops.jobkit.context import JobContext
from video_ops.media import audio, clips
from video_ops.ops.render.model import MUSIC, NARRATION, RenderInput, Scene, scene_field
from video_ops.ops.render.plan import Inputs, Plan
from video_ops.ops.trilhasonora import MusicUnderVoice, music_length, music_under_voice


def mix_layout(inputs: Inputs) -> str:
    return audio.mix_layout(inputs.narration.audio.channels if inputs.narration else None,
                            inputs.music.audio.channels if inputs.music else 2)


async def plan_music(ctx: JobContext, job: RenderInput, inputs: Inputs, plan: Plan,
                     layout: str) -> MusicUnderVoice | None:
    """trilhasonora's plan for the music under the narration, from both measured loudnesses."""
    if job.music is None or inputs.music is None:
        return None
    music_s = music_length(inputs.music, MUSIC)
    with ctx.timed("analysis"):
        levels = await audio.measure_levels(inputs.files.get(NARRATION), inputs.files[MUSIC],
                                            seconds=plan.seconds, layout=layout, workdir=ctx.workdir)
    return music_under_voice(job.music, levels, length_s=plan.seconds, music_s=music_s, layout=layout)


def clip_volume(job: RenderInput, scene: Scene) -> float:
    """A clip's own sound: as asked, else kept without a narration and dropped under one."""
    if scene.volume is not None:
        return scene.volume
    return 1.0 if job.narration is None else 0.0


def sound_inputs(job: RenderInput, inputs: Inputs, first: int = 1) -> tuple[list[list[str]], dict[str, int]]:
    """The audio inputs, numbered from `first` (after the frames, input 0, in a render's encode): their argv
    and their input numbers by name."""
    args: list[list[str]] = []
    numbers: dict[str, int] = {}
    for name in (NARRATION, MUSIC):
        if name in inputs.files:
            numbers[name] = first + len(args)
            args.append(["-i", str(inputs.files[name])])
    for position, scene in enumerate(job.scenes):
        clip = inputs.clips.get(position)
        if clip is not None and clip.audio is not None and clip_volume(job, scene) > 0:
            numbers[scene_field(position)] = first + len(args)
            args.append(["-ss", f"{scene.trim_start:.6f}", "-i", str(clip.path)])
    return args, numbers


def audio_graph(job: RenderInput, inputs: Inputs, plan: Plan, soundtrack: MusicUnderVoice | None, layout: str,
                numbers: dict[str, int]) -> str | None:
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
        parts.append(_clip_sound(job, inputs, plan, numbers, layout, "clipsound"))
        voices.append("clipsound")
    voice: str | None = None
    if len(voices) == 2:
        parts.append("[narration][clipsound]amix=inputs=2:duration=longest:normalize=0[voice]")
        voice = "voice"
    elif voices:
        voice = voices[0]
    if soundtrack is not None:
        parts.append(soundtrack.graph(f"{numbers[MUSIC]}:a", voice, "aout"))
    elif voice is not None:
        limit = f"{audio.limiter()}," if len(voices) == 2 else ""
        parts.append(f"[{voice}]{limit}apad[aout]")
    else:
        return None
    return ";".join(parts)


def _clip_sound(job: RenderInput, inputs: Inputs, plan: Plan, numbers: dict[str, int], layout: str,
                out: str) -> str:
    """The clips' own sound end to end, each scene's part from its start to the next scene's start
    (silence for images and muted clips), sample-exact, so it never drifts from the picture."""
    fmt = clips.Sound(audio.SAMPLE_RATE, layout)
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
