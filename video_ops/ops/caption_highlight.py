"""caption_highlight: word-by-word captions, the spoken word highlighted, from a words file, an SRT or the
video's own speech heard in the job.

The words are read, fitted to the video, grouped into captions and written as an ASS script by the
building blocks in `video_ops.subtitles`; `caption`'s recipe burns the script in.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import model_validator

from video_ops.io.fetch import SizeCap
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, Operation, UrlField
from video_ops.ops.caption import SRT_CAP, Plan, burn, read_subtitles
from video_ops.ops.speech_captions import TRANSCRIBE, heard_result, one_source, video_speech
from video_ops.ops.transcribe import SpeechOptions
from video_ops.subtitles.cues import CueRules
from video_ops.subtitles.fonts import choose
from video_ops.subtitles.highlight import HighlightLook, Mode, write_highlight_script
from video_ops.subtitles.highlight_style import HighlightStyle
from video_ops.subtitles.metrics import font_file
from video_ops.subtitles.words import Word, fit_words, read_words, words_from_cues

MESSAGE = "Caption highlight added and uploaded to S3 successfully"
WORDS_CAP = SizeCap(20, "is it a words file?")  # a three-hour transcript with word times is about 5 MB


class CaptionHighlightInput(JobInput):
    operation: Literal["caption_highlight"]
    url_video: UrlField
    url_words_json: UrlField | None = None
    url_srt: UrlField | None = None
    transcribe: SpeechOptions | None = None
    output_filename: str | None = None
    highlight_mode: Mode = "box"
    style: HighlightStyle = HighlightStyle()

    @model_validator(mode="after")
    def _one_words_source(self) -> CaptionHighlightInput:
        one_source(self, ("url_words_json", "url_srt"), "the words")
        return self


def words_cap(srt: bool) -> SizeCap:
    """The size cap of the words' file: an SRT's or a words JSON's."""
    return SRT_CAP if srt else WORDS_CAP


def read_job_words(path: Path, field: str, duration: float, srt: bool) -> tuple[list[Word], list[str]]:
    """The words of the downloaded file (an SRT when `srt`, else a words JSON), fitted to the video."""
    if srt:
        timeline = read_subtitles(path, duration, field)
        fitted = fit_words(words_from_cues(timeline.cues), duration, field)
        return fitted.words, [*timeline.warnings, *fitted.warnings]
    fitted = fit_words(read_words(path.read_bytes(), field), duration, field)
    return fitted.words, fitted.warnings


@dataclass(frozen=True)
class WordsLook:
    """The chosen font and look of word-by-word captions, decided before anything is downloaded."""

    look: HighlightLook
    font: Path
    warnings: list[str]


async def words_look(style: HighlightStyle, mode: Mode, field_prefix: str = "") -> WordsLook:
    asked, named_by = style.font_name()
    family, warning = await asyncio.to_thread(choose, asked, field_prefix + named_by)
    look = style.look(family, mode)
    font = await asyncio.to_thread(font_file, family, look.bold)
    return WordsLook(look, font, [warning] if warning else [])


def words_script(words_file: Path, field: str, srt: bool, chosen: WordsLook, duration: float,
                 size: tuple[int, int], script: Path) -> dict[str, Any]:
    """Write the word-by-word ASS script for a video `duration` long of `size`: counts and warnings."""
    words, warnings = read_job_words(words_file, field, duration, srt)
    captions = write_highlight_script(script, words, chosen.look, *size, chosen.font)
    return {"words": len(words), "captions": captions, "warnings": warnings}


async def run(ctx: JobContext, job: CaptionHighlightInput) -> dict:
    """The words of the file given, or of the video's speech heard here: transcribe's `words.json`, read as a
    `url_words_json` is."""
    chosen = await words_look(job.style, job.highlight_mode)
    given = {name: url for name, url in (("url_srt", job.url_srt), ("url_words_json", job.url_words_json)) if url}
    files = await ctx.download({"url_video": job.url_video, **given},
                               caps={name: words_cap(name == "url_srt") for name in given})
    heard = None
    if job.transcribe is not None:
        heard, written = await video_speech(ctx, files["url_video"], job.transcribe, CueRules())
        files[TRANSCRIBE] = written["words.json"]
    field, = set(files) - {"url_video"}  # the one source the input's check lets through
    counts = {"words": 0, "captions": 0}

    async def write(recipe: Plan, duration: float) -> list[str]:
        written = words_script(files[field], field, job.url_srt is not None, chosen, duration,
                               (recipe.width, recipe.height), recipe.script)
        counts.update(words=written["words"], captions=written["captions"])
        return written["warnings"]

    result = await burn(ctx, job, files["url_video"], write, message=MESSAGE)
    return {**result, **counts, **heard_result(heard), "warnings": [*chosen.warnings, *result["warnings"]]}


OPERATION = Operation(name="caption_highlight", input_model=CaptionHighlightInput, run=run)
