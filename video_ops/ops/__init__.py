"""The operations this worker knows, by the name callers put in `operation`."""

from video_ops.jobkit.contract import Operation
from video_ops.ops import addaudio, caption, img2vid, render

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        addaudio.OPERATION,
        caption.OPERATION,
        img2vid.OPERATION,
        render.OPERATION,
    )
}
