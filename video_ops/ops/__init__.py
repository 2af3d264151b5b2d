"""The operations this worker knows, by the name callers put in `operation`."""

from video_ops.jobkit.contract import Operation
from video_ops.ops import (
    addaudio,
    audio_concatenate,
    caption,
    caption_highlight,
    caption_segments,
    compose,
    concat_video_audio,
    concatenate,
    convert,
    cut,
    extract_audio,
    frames,
    img2vid,
    probe,
    remove_silence,
    render,
    silence,
    split,
    transcribe,
    trilhasonora,
    trim,
)

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        addaudio.OPERATION,
        caption.OPERATION,
        img2vid.OPERATION,
        caption_segments.OPERATION,
        caption_highlight.OPERATION,
        concatenate.OPERATION,
        concat_video_audio.OPERATION,
        trilhasonora.OPERATION,
        render.OPERATION,
        transcribe.OPERATION,
        trim.OPERATION,
        cut.OPERATION,
        split.OPERATION,
        silence.OPERATION,
        remove_silence.OPERATION,
        extract_audio.OPERATION,
        audio_concatenate.OPERATION,
        frames.OPERATION,
        probe.OPERATION,
        convert.OPERATION,
        compose.OPERATION,
    )
}
