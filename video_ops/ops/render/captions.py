"""The render's captions: caption_segments' script for an SRT, caption_highlight's for words, written
for the whole timeline before the encode burns it in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from video_ops.jobkit.context import JobContext
from video_ops.ops.caption import srt_script
from video_ops.ops.caption_highlight import words_look, words_script
from video_ops.ops.caption_segments import SegmentsStyle
from video_ops.ops.render.model import NARRATION, Captions
from video_ops.ops.speech_captions import hear, heard_files, transcription
from video_ops.subtitles.cues import CueRules
from video_ops.subtitles.fonts import choose
from video_ops.subtitles.highlight_style import HighlightStyle
from video_ops.subtitles.markup import break_after_sentences


@dataclass(frozen=True)
class CaptionScript:
    path: Path
    counts: dict[str, int]  # the result's `captions` (and `words`) counts
    warnings: list[str]


async def narration_words(ctx: JobContext, captions: Captions, narration: Path) -> tuple[Path, dict[str, Any]]:
    """The narration transcribed in this job, as the words file `words_url` would bring, and what was heard."""
    heard = await hear(ctx, narration, NARRATION, captions, named=captions.field, subject="the narration")
    return (await heard_files(ctx, heard, CueRules()))["words.json"], transcription(heard)


async def write_captions(captions: Captions, source: Path, seconds: float, size: tuple[int, int],
                         script: Path) -> CaptionScript:
    if captions.word_by_word:
        chosen = await words_look(HighlightStyle.model_validate(captions.style), captions.highlight_mode or "box",
                                  "captions.")
        written = await asyncio.to_thread(words_script, source, captions.field, captions.srt_url is not None,
                                          chosen, seconds, size, script)
        return CaptionScript(script, {"words": written["words"], "captions": written["captions"]},
                             [*chosen.warnings, *written["warnings"]])
    style = SegmentsStyle.model_validate(captions.style)
    family, warning = await asyncio.to_thread(choose, style.font.name, "captions.style.font.name")
    cues, notes = await srt_script(source, captions.field, style.look(family), seconds, size, script,
                                   text=break_after_sentences)
    return CaptionScript(script, {"captions": cues}, [*([warning] if warning else []), *notes])
