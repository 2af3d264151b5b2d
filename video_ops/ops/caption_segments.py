"""caption_segments: the reference worker's styled SRT captions (or the video's speech, heard in the job), drawn
by `caption`'s recipe.

Its `style` maps onto a caption Look: sizes are pixels of a 1080-high frame (the reference's script was
1920x1080 and libass scales by height, so the same numbers give the same pixels on any orientation).
As the reference did, a line break follows each sentence end and `uppercase` capitalises the text.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from video_ops.base.models import StrictModel
from video_ops.jobkit.context import JobContext
from video_ops.jobkit.contract import JobInput, Operation, UrlField
from video_ops.ops.caption import caption_srt
from video_ops.ops.speech_captions import SrtOrSpeech
from video_ops.subtitles.colours import Rgba
from video_ops.subtitles.fonts import choose
from video_ops.subtitles.markup import break_after_sentences
from video_ops.subtitles.style import BLACK, BOX, OUTLINE, WHITE, ColourValue, FontName, Length, Look, alignment_number

MESSAGE = "Caption segments added and uploaded to S3 successfully"
MARGIN_H = 20.0  # the reference's style gives no side margins; long lines wrap inside these
_NO_SHADOW = Rgba(0, 0, 0, 255)


class SegmentsFont(StrictModel):
    name: FontName = "Arial"
    size: float = Field(36, gt=0, le=500)
    bold: bool = True


class SegmentsColours(StrictModel):
    primary: ColourValue = WHITE
    outline: ColourValue = BLACK  # the outline, or the box with border styles 3 and 4


class SegmentsBorder(StrictModel):
    style: Literal[1, 3, 4] = 1  # ASS BorderStyle: 1 outline, 3 and 4 an opaque box
    width: float = Field(3, ge=0, le=100)


class SegmentsPosition(StrictModel):
    alignment: Annotated[int, Field(ge=1, le=9), BeforeValidator(alignment_number)] = 2
    margin_vertical: Length = Field(20, alias="marginVertical")


class SegmentsStyle(StrictModel):
    font: SegmentsFont = SegmentsFont()
    colors: SegmentsColours = SegmentsColours()
    border: SegmentsBorder = SegmentsBorder()
    position: SegmentsPosition = SegmentsPosition()
    uppercase: bool = False

    def look(self, font: str) -> Look:
        box = self.border.style != OUTLINE
        return Look(font=font, size=self.font.size, bold=self.font.bold, primary=self.colors.primary,
                    outline_colour=self.colors.outline, back_colour=self.colors.outline if box else _NO_SHADOW,
                    border_style=BOX if box else OUTLINE, outline=self.border.width, shadow=0,
                    alignment=self.position.alignment, margin_v=self.position.margin_vertical,
                    margin_l=MARGIN_H, margin_r=MARGIN_H, uppercase=self.uppercase)


class CaptionSegmentsInput(JobInput, SrtOrSpeech):
    operation: Literal["caption_segments"]
    url_video: UrlField
    output_filename: str | None = None
    style: SegmentsStyle = SegmentsStyle()


async def run(ctx: JobContext, job: CaptionSegmentsInput) -> dict:
    family, warning = await asyncio.to_thread(choose, job.style.font.name, "style.font.name")
    look = job.style.look(family)
    return await caption_srt(ctx, job, look, [warning] if warning else [], message=MESSAGE,
                             text=break_after_sentences)


OPERATION = Operation(name="caption_segments", input_model=CaptionSegmentsInput, run=run)
