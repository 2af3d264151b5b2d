"""Captions from speech heard in the same job: a caption operation's video, or render's narration.

What is heard is written by transcribe's own writer (`write_transcript`), so captions made from speech get the
very cues of transcribe's `segments.srt` and the words of its `words.json`; the caption operations then draw
those files as if a caller had given their URLs. No second download: the sound is the file already here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol

from pydantic import model_validator

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import UrlField
from video_ops.ops.transcribe import CueOptions, SpeechOptions, Transcript, transcribe_file
from video_ops.subtitles.cues import CueRules
from video_ops.subtitles.transcript import write_transcript

TRANSCRIBE = "transcribe"
HEARD_DIR = "heard"  # transcribe's five files, apart from the job's downloads and outputs


class FileOrSpeech(Protocol):
    """A job whose captions come from files (`url_srt`, `url_words_json`...) or from `transcribe`."""

    transcribe: SpeechOptions | None


def one_source(job: FileOrSpeech, files: tuple[str, ...], what: str) -> None:
    """Refuse both or neither, naming the fields: `files` (the URL fields) or `transcribe`."""
    given = [getattr(job, name) is not None for name in (*files, TRANSCRIBE)]
    if given.count(True) != 1:
        raise ValueError(f"give {what} as {' or '.join(files)}, or have them heard in the video's own speech with "
                         f"{TRANSCRIBE} (one of them)")


class SpeechCues(SpeechOptions, CueOptions):
    """`transcribe` of `caption` and `caption_segments`: how the speech is heard, and how its cues are made for
    reading (transcribe's own cue options and defaults)."""


class SrtOrSpeech(StrictModel):
    """The cues of `caption` and `caption_segments`: an SRT file's, or the video's speech heard in the job."""

    url_srt: UrlField | None = None
    transcribe: SpeechCues | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SrtOrSpeech:
        one_source(self, ("url_srt",), "the cues")
        return self


async def hear(ctx: JobContext, sound: Path, field: str, speech: SpeechOptions, *, named: str,
               subject: str) -> Transcript:
    """The speech of `sound` (the file downloaded for `field`); no words at all fails naming `named`, as there
    would be nothing to caption."""
    heard = await transcribe_file(ctx, sound, field, speech)
    if not heard.words:
        raise JobError(f"{named}: no speech was found in {subject}, so there are no words to caption.")
    return heard


async def heard_files(ctx: JobContext, heard: Transcript, rules: CueRules) -> dict[str, Path]:
    """transcribe's files of what was heard (`segments.srt` with cues by `rules`, `words.json`...), written as
    transcribe writes them."""
    folder = ctx.workdir / HEARD_DIR
    folder.mkdir(exist_ok=True)
    with ctx.timed("write"):
        return await asyncio.to_thread(write_transcript, folder, heard.segments, heard.cues(rules), heard.language,
                                       heard.duration)


async def video_speech(ctx: JobContext, video: Path, speech: SpeechOptions, rules: CueRules
                       ) -> tuple[Transcript, dict[str, Path]]:
    """What a caption job's `url_video` says, and transcribe's files of it."""
    heard = await hear(ctx, video, "url_video", speech, named="url_video", subject="the video's sound")
    return heard, await heard_files(ctx, heard, rules)


def transcription(heard: Transcript) -> dict[str, Any]:
    """The result's `transcription`: the language, the text and transcribe's stats."""
    return {"language": heard.language, "text": heard.text, **heard.stats}


def heard_result(heard: Transcript | None) -> dict[str, Any]:
    """The result's keys for what was heard: `transcription`, when the job heard speech."""
    return {"transcription": transcription(heard)} if heard is not None else {}
