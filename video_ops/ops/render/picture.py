"""The scenes as frame sources for the compositor: image scenes painted once and cut per frame, clips
decoded by their own FFmpeg; each is opened when its scene comes and freed when it ends."""

from __future__ import annotations

from pathlib import Path

from video_ops.media import clips, images
from video_ops.media.canvas import Canvas
from video_ops.media.compose import SourceOpener
from video_ops.media.decoded import DecodedFrames
from video_ops.media.shots import Shot, paint, plan_shot, shot_frame
from video_ops.ops.render.model import RenderInput, Scene
from video_ops.ops.render.plan import Inputs, Plan


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


def scene_openers(job: RenderInput, inputs: Inputs, plan: Plan, workdir: Path,
                  positions: range) -> list[SourceOpener]:
    """The openers of the scenes at `positions` (those a part shows; every one for a whole render)."""
    size = (job.width, job.height)
    frame_bytes = job.width * job.height * 3 // 2
    openers: list[SourceOpener] = []
    for position in positions:
        scene, frames = job.scenes[position], plan.counts[position]
        if scene.kind == "image":
            path, info = inputs.scene_file(position), inputs.images[position]
            shot = plan_shot(info, size, scene.fit or "cover", scene.motion)
            openers.append(lambda p=path, i=info, s=shot, b=scene.background, n=frames: StillScene(p, i, s, b, n))
        else:
            frame = clips.Frame(job.width, job.height, plan.rate, scene.fit or "contain", scene.background)
            args = clip_decoder_args(inputs.clips[position], scene, frame, frames)
            openers.append(lambda a=args: DecodedFrames(a, frame_bytes, workdir))
    return openers
