"""render: a whole narrated video in one job: scenes, transitions, narration, music, captions, one encode.

The picture is composed in Python as one stream of raw frames (image scenes cut by img2vid's shot
code, video scenes decoded and fitted by concatenate's clip recipe, transitions blended between
them) and streamed into a single FFmpeg that burns the captions (caption_segments' or
caption_highlight's script), mixes the sound (trilhasonora's music graph) and encodes once. Memory
stays at a few scenes whatever the length; every input is downloaded and checked first.

`model` is the input, `plan` the checked inputs and the timeline in frames, `picture` the scenes'
frame sources, `captions` and `sound` what burns in and sounds beside them, `job` the one encode.
"""

from video_ops.ops.render.stages import OPERATION

__all__ = ["OPERATION"]
