"""compose: any FFmpeg filter graph as JSON (inputs, `filter_complex`, outputs), run inside a sandbox.

The caller's power is FFmpeg's own; the sandbox is what the worker adds around it (docs/compose.md):
FFmpeg is given only the job's downloaded inputs (by the worker, as `file:` paths, with
`-protocol_whitelist file,pipe`), a graph rebuilt from its checked parse (`media.filter_policy`), options
from allow-lists (`media.ffmpeg_options`), outputs in the job's folder under names the worker picks, a cap
on their bytes (`-fs` and a check) and the step's time limit; FFmpeg picks its threads from the cores the
worker may use, as in every operation (a job cannot set them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.base.settings import env_int
from video_ops.base.tasks import all_or_nothing
from video_ops.io.keys import clean_filename, clean_prefix, join_key
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, Operation, UrlField
from video_ops.media.describe import describe
from video_ops.media.encoders import AAC_ARGS, Encoder
from video_ops.media.ffmpeg import step_timeout
from video_ops.media.ffmpeg_options import (
    CONTENT_TYPES,
    DEMUXERS,
    INPUT_OPTIONS,
    MUXERS,
    OUTPUT_OPTIONS,
    SUFFIXES,
    WORKER_CODECS,
    OptionRefused,
    as_argv,
    option_args,
    unreadable_format,
)
from video_ops.media.filter_graph import Graph
from video_ops.media.filter_policy import GraphRefused, check_graph, output_labels, subtitle_inputs, with_input_paths
from video_ops.media.probe import probe, probe_output
from video_ops.subtitles.fonts import installed_files

MAX_BYTES_SETTING = "VIDEO_OPS_COMPOSE_MAX_BYTES"
DEFAULT_MAX_BYTES = 4 * 1024**3
MAX_INPUTS = 20
_BUDGET = 60.0  # seconds a media second may take before the step is stopped (slow graphs such as minterpolate)
_STREAM_MAP = re.compile(r"([0-9]+)(?::[vas](?::[0-9]+)?)?\??")
_LABEL_MAP = re.compile(r"\[([A-Za-z0-9_.:]+)\]")
_VIDEO_MUXERS = {"mp4", "mov", "matroska", "mpegts", "webm"}
_ENCODER_CHOICES = ("preset", "tune", "profile:v")  # settings of a named encoder, not of the worker's choice


class ComposeSource(StrictModel):
    url: UrlField
    options: dict[str, Any] = Field(default_factory=dict)


class ComposeOutput(StrictModel):
    filename: str = Field(min_length=1, max_length=255)
    maps: list[str] = Field(default_factory=list, max_length=16)
    options: dict[str, Any] = Field(default_factory=dict)


class ComposeInput(JobInput):
    operation: Literal["compose"]
    inputs: list[ComposeSource] = Field(min_length=1, max_length=MAX_INPUTS)
    filter_complex: str | None = None
    outputs: list[ComposeOutput] = Field(min_length=1, max_length=4)
    metadata: bool = False
    _graph: Graph | None = PrivateAttr(None)
    _input_args: list[dict[str, str | None]] = PrivateAttr(default_factory=list)
    _output_args: list[dict[str, str | None]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _sandboxed(self) -> ComposeInput:
        self._input_args = [_options(item.options, INPUT_OPTIONS, f"inputs[{n}].options")
                            for n, item in enumerate(self.inputs)]
        if self.filter_complex is not None:
            try:
                self._graph = check_graph(self.filter_complex, len(self.inputs), installed_files)
            except GraphRefused as err:
                raise ValueError(f"field 'filter_complex': {err}") from None
        self._output_args = [_options(out.options, OUTPUT_OPTIONS, f"outputs[{n}].options")
                             for n, out in enumerate(self.outputs)]
        for number, (out, args) in enumerate(zip(self.outputs, self._output_args, strict=True)):
            chosen = args.get("c:v")
            named = [name for name in _ENCODER_CHOICES if name in args]
            if named and (chosen is None or chosen in WORKER_CODECS):
                raise ValueError(f"field 'outputs[{number}].options': '{named[0]}' needs an encoder named in 'c:v' "
                                 f"(libx264, libx265, h264_nvenc...); '{chosen or 'h264'}' uses the worker's own "
                                 "settings on whichever encoder it has")
            self._check_maps(out.maps, f"outputs[{number}].maps")
        self._check_all_mapped()
        return self

    def _check_maps(self, maps: list[str], field: str) -> None:
        labels = output_labels(self._graph) if self._graph else set()
        for given in maps:
            label = _LABEL_MAP.fullmatch(given)
            stream = _STREAM_MAP.fullmatch(given)
            if label is not None and label.group(1) in labels:
                continue
            if stream is not None and int(stream.group(1)) < len(self.inputs):
                continue
            raise ValueError(f"field '{field}': '{given[:40]}' is neither an output label of 'filter_complex' "
                             f"([name]) nor a stream of one of 'inputs' (such as 0:v, 1:a or 0:a?)")

    def _check_all_mapped(self) -> None:
        """Each labelled graph output goes to exactly one output (FFmpeg stops on one mapped twice or none)."""
        mapped = [given for out in self.outputs for given in out.maps if given.startswith("[")]
        twice = sorted({given for given in mapped if mapped.count(given) > 1})
        if twice:
            raise ValueError(f"field 'outputs': {twice[0]} is mapped twice; split it (split, asplit) to send it to "
                             "two outputs")
        left = sorted(f"[{label}]" for label in (output_labels(self._graph) if self._graph else set())
                      if f"[{label}]" not in mapped)
        if left:
            raise ValueError(f"field 'filter_complex': the graph's output {left[0]} is in no output's 'maps'")


def _options(options: dict[str, Any], allowed: dict, field: str) -> dict[str, str | None]:
    try:
        return option_args(options, allowed)
    except OptionRefused as err:
        raise ValueError(f"field '{field}': {err}") from None


async def run(ctx: JobContext, job: ComposeInput) -> dict:
    prefix = clean_prefix(job.path)
    targets = [_target(out, args, number) for number, (out, args)
               in enumerate(zip(job.outputs, job._output_args, strict=True))]
    keys = [join_key(prefix, filename) for filename, _ in targets]
    fields = [f"inputs[{n}].url" for n in range(len(job.inputs))]
    files = await ctx.download(dict(zip(fields, (item.url for item in job.inputs), strict=True)))
    sources = [files[field] for field in fields]
    graph = job._graph
    subtitles = subtitle_inputs(graph) if graph is not None else set()
    with ctx.timed("probe"):
        lengths = await all_or_nothing(*(_seconds(sources[n], fields[n]) for n in range(len(sources))
                                         if n not in subtitles))
    seconds = max(lengths or [0.0])
    if graph is not None:
        graph = with_input_paths(graph, [str(path) for path in sources])
    outputs = [ctx.workdir / f"output_{number}{SUFFIXES[muxer]}" for number, (_, muxer) in enumerate(targets)]
    limit = env_int(MAX_BYTES_SETTING, DEFAULT_MAX_BYTES)
    with ctx.timed("process"):
        encoder = await ctx.encode(lambda enc: _argv(job, sources, graph, outputs, [m for _, m in targets], enc,
                                                     limit),
                                   step="Running the filter graph", duration=seconds or None,
                                   timeout=step_timeout(seconds, _BUDGET))
        _within_limit(outputs, limit)
    stored = await ctx.upload(list(zip(outputs, keys, strict=True)), CONTENT_TYPES)
    results = await all_or_nothing(*(_described(path, one, filename, args, encoder, job.metadata) for
                                     path, one, (filename, _), args in zip(outputs, stored, targets, job._output_args,
                                                                           strict=True)))
    first = results[0]
    return {"message": f"Composed {len(results)} output{'s' if len(results) > 1 else ''} and uploaded to S3 "
                       "successfully",
            "video_url": first["url"], "filename": first["filename"], "s3_key": first["s3_key"],
            "size_bytes": first["size_bytes"], "outputs": results,
            **{key: first[key] for key in ("encoder", "encoder_fallback_reason") if key in first}}


def _target(out: ComposeOutput, args: dict[str, str | None], number: int) -> tuple[str, str]:
    """(the object's file name, the muxer): from `f`, else from the name's extension (no extension: MP4)."""
    field = f"outputs[{number}].filename"
    muxer = MUXERS[args["f"]] if args.get("f") else None
    if muxer is None:
        suffix = out.filename.strip().rpartition(".")[2].lower() if "." in out.filename.strip(". ") else "mp4"
        muxer = MUXERS.get(suffix)
        if muxer is None or suffix in ("matroska", "ipod", "adts", "mpegts"):
            raise JobError(f"Invalid input: field '{field}' must end with one of "
                           f"{', '.join(sorted(set(SUFFIXES.values())))} (or give the muxer in 'f').")
    return clean_filename(out.filename, field, SUFFIXES[muxer]), muxer


async def _seconds(path: Path, field: str) -> float:
    """How long the input plays, for the step's time limit and its progress (an image: 0)."""
    info = await probe(path, field, check_decode=False)
    if unreadable_format(info.format_name):
        raise JobError(f"{field}: the file is read as '{info.format_name}', which compose does not read (it reads "
                       "media files, not playlists or lists of other files).")
    return info.duration or 0.0


def _argv(job: ComposeInput, sources: list[Path], graph: Graph | None, outputs: list[Path], muxers: list[str],
          encoder: Encoder, limit: int) -> list[str]:
    argv: list[str] = []
    for source, args in zip(sources, job._input_args, strict=True):
        argv += ["-protocol_whitelist", "file,pipe", "-format_whitelist", ",".join(DEMUXERS), *as_argv(args),
                 "-i", f"file:{source}"]
    if graph is not None:
        argv += ["-filter_complex", graph.text()]
    for out, args, path, muxer in zip(job.outputs, job._output_args, outputs, muxers, strict=True):
        for given in out.maps:
            argv += ["-map", given]
        argv += [*output_codec_args(args, muxer, encoder), *as_argv(_without_codecs(args, muxer)), "-sn", "-dn",
                 "-fs", str(limit), "-f", muxer, f"file:{path}"]
    return argv


def worker_codec(args: dict[str, str | None], muxer: str) -> str | None:
    """The codec the worker's own settings encode for this output: `c:v` when it names one (h264, hevc, vp9,
    av1), else the container's usual one; None when an encoder is named or the output has no picture."""
    if "vn" in args:
        return None
    chosen = args.get("c:v")
    if chosen is None and muxer in _VIDEO_MUXERS:
        chosen = "vp9" if muxer == "webm" else "h264"
    return chosen if chosen in WORKER_CODECS else None


def output_codec_args(args: dict[str, str | None], muxer: str, encoder: Encoder) -> list[str]:
    """An output's codec options: the worker's settings on its encoder for `worker_codec`, else as named."""
    codec = worker_codec(args, muxer)
    video: list[str] = []
    if codec is not None:
        crf = args.get("crf")
        bitrate = args.get("b:v")
        video = encoder.codec_args(codec, crf=int(crf) if crf else None,  # type: ignore[arg-type]
                                   bitrate=_bits(bitrate) if bitrate else None)
        if args.get("pix_fmt"):
            video = [*video[:-2], "-pix_fmt", args["pix_fmt"]]  # type: ignore[list-item]
    elif args.get("c:v"):
        video = ["-c:v", args["c:v"]]  # type: ignore[list-item]
    sound: list[str] = []
    if "c:a" in args:
        sound = ["-c:a", args["c:a"]]  # type: ignore[list-item]
    elif "an" not in args and muxer in ("mp4", "mov", "matroska", "mpegts", "ipod", "adts"):
        sound = list(AAC_ARGS[:2])
    elif "an" not in args and muxer == "webm":
        sound = ["-c:a", "libopus"]
    return [*video, *sound]


def _without_codecs(args: dict[str, str | None], muxer: str) -> dict[str, str | None]:
    """The options `output_codec_args` has not already written (`f` is written last, with the output)."""
    placed = {"c:v", "c:a", "f"}
    if worker_codec(args, muxer) is not None:
        placed |= {"crf", "b:v", "pix_fmt"}
    return {name: value for name, value in args.items() if name not in placed}


def _bits(text: str) -> int:
    scale = {"k": 1_000, "K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("kKM")) * scale)


def _within_limit(outputs: list[Path], limit: int) -> None:
    total = sum(path.stat().st_size for path in outputs if path.exists())
    if total >= limit:
        raise JobError(f"outputs: the outputs reached {MAX_BYTES_SETTING} ({limit} bytes) and were stopped; raise "
                       "the setting or write less.")


async def _described(path: Path, stored: Any, filename: str, args: dict[str, str | None], encoder: Encoder,
                     metadata: bool) -> dict[str, Any]:
    info, found = await describe(path, filename) if metadata else (await probe_output(path), {})
    result: dict[str, Any] = {"filename": filename, "url": stored.url, "s3_key": stored.key,
                              "size_bytes": stored.size_bytes, "duration": info.duration}
    picture = info.video
    if picture is not None:
        result.update(width=picture.width, height=picture.height)
        codec = worker_codec(args, _muxer_of(path))
        if codec is not None:
            result.update(encoder.describe(codec))  # type: ignore[arg-type]
        elif args.get("c:v"):
            result["encoder"] = args["c:v"]  # named by the caller (or "copy")
    if metadata:
        result["metadata"] = found
    return result


def _muxer_of(path: Path) -> str:
    return next(muxer for muxer, suffix in SUFFIXES.items() if suffix == path.suffix)


OPERATION = Operation(name="compose", input_model=ComposeInput, run=run)
