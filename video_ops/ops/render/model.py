"""The render job's input: scenes, transition, narration, music and captions, checked at the door."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator, model_validator

from video_ops.base.models import StrictModel
from video_ops.jobkit.contract import FrameSide, JobInput, UrlField, describe_validation_error, within_limit
from video_ops.media.compose import Transition
from video_ops.media.motion import Fit, Motion
from video_ops.ops.caption_segments import SegmentsStyle
from video_ops.ops.img2vid import Colour
from video_ops.ops.transcribe import SpeechOptions
from video_ops.ops.trilhasonora import MusicOptions
from video_ops.subtitles.highlight import Mode
from video_ops.subtitles.highlight_style import HighlightStyle

DEFAULT_MAX_SCENES = 500
NARRATION, MUSIC = "narration.url", "music.url"


def scene_field(position: int) -> str:
    return f"scenes[{position}]"


def join_field(position: int) -> str:
    return f"join.parts[{position}]"


JOIN_SOUND = "join.sound"


class Scene(StrictModel):
    """An image shown for `duration` seconds (with an img2vid camera move), or a piece of a video clip."""

    image_url: UrlField | None = None
    video_url: UrlField | None = None
    duration: float | None = Field(None, validation_alias=AliasChoices("duration", "duracao"), gt=0, le=3600)
    motion: Motion = Field("none", validation_alias=AliasChoices("motion", "zoom_type"))
    fit: Fit | None = None  # images: cover; clips: contain
    background: Colour = (0, 0, 0)
    trim_start: float = Field(0.0, ge=0, le=24 * 3600)
    volume: float | None = Field(None, ge=0, le=10)  # a clip's own sound: 1 without narration, else 0

    @model_validator(mode="after")
    def _one_source(self) -> Scene:
        if (self.image_url is None) == (self.video_url is None):
            raise ValueError("give either 'image_url' or 'video_url'")
        if self.image_url is not None:
            if self.duration is None:
                raise ValueError("an image scene needs 'duration'")
            if self.trim_start or self.volume is not None:
                raise ValueError("'trim_start' and 'volume' apply to video scenes only")
        elif self.motion != "none":
            raise ValueError("'motion' applies to image scenes only")
        return self

    @property
    def kind(self) -> Literal["image", "video"]:
        return "image" if self.image_url is not None else "video"

    @property
    def url(self) -> str:
        return self.image_url or self.video_url or ""


class TransitionOptions(StrictModel):
    type: Transition = "none"
    duration: float = Field(0.5, gt=0, le=5)


class NarrationOptions(StrictModel):
    url: UrlField
    volume: float = Field(1.0, ge=0, le=10)


class MusicUnder(MusicOptions):
    """trilhasonora's options, with the music's URL."""

    url: UrlField = Field(validation_alias=AliasChoices("url", "trilha_sonora", "url_music"))


class Captions(SpeechOptions):
    """An SRT drawn as caption_segments draws it, or words (or an SRT with `highlight_mode`, or the narration
    transcribed in the job with `from_narration`) word by word as caption_highlight draws them; `style` is
    that operation's style. transcribe's options (`model`, `language`...) choose how the narration is heard."""

    srt_url: UrlField | None = None
    words_url: UrlField | None = None
    from_narration: bool = False
    highlight_mode: Mode | None = None
    style: dict[str, Any] = Field(default_factory=dict)

    @field_validator("style")
    @classmethod
    def _style_of_its_operation(cls, style: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Checked against caption_highlight's style for words (or an SRT with a highlight mode), else
        caption_segments': the same fields, the same errors, named inside `captions.style`."""
        word_by_word = (info.data.get("words_url") is not None or info.data.get("highlight_mode") is not None
                        or info.data.get("from_narration") is True)
        model = HighlightStyle if word_by_word else SegmentsStyle
        try:
            model.model_validate(style)
        except ValidationError as err:
            problem = describe_validation_error(err, model).removeprefix("Invalid input: ").rstrip(".")
            raise ValueError(problem.removeprefix("field ")) from None
        return style

    @model_validator(mode="after")
    def _one_source(self) -> Captions:
        if [self.srt_url is not None, self.words_url is not None, self.from_narration].count(True) != 1:
            raise ValueError("give one of 'srt_url', 'words_url' or 'from_narration'")
        heard = set(SpeechOptions.model_fields) & self.model_fields_set
        if heard and not self.from_narration:
            raise ValueError(f"'{sorted(heard)[0]}' applies to 'from_narration' only")
        return self

    @property
    def word_by_word(self) -> bool:
        return self.words_url is not None or self.highlight_mode is not None or self.from_narration

    @property
    def field(self) -> str:
        if self.from_narration:
            return "captions.from_narration"
        return "captions.words_url" if self.words_url is not None else "captions.srt_url"

    @property
    def url(self) -> str | None:
        """The captions' own file to download; None when they come from the narration."""
        return self.words_url or self.srt_url


class PartRange(StrictModel):
    """Frames `start_frame` .. `end_frame - 1` of the planned timeline, the part `index` of a split render."""

    start_frame: int = Field(ge=0)
    end_frame: int = Field(gt=0)
    index: int = Field(ge=0, le=DEFAULT_MAX_SCENES)

    @model_validator(mode="after")
    def _not_empty(self) -> PartRange:
        if self.end_frame <= self.start_frame:
            raise ValueError("'end_frame' must be after 'start_frame'")
        return self


class JoinParts(StrictModel):
    """The parts' videos, in timeline order, and the whole timeline's sound (a `sound_only` job's), to be
    copied together."""

    parts: list[UrlField] = Field(min_length=1, max_length=DEFAULT_MAX_SCENES + 1)
    sound: UrlField


Stage = Literal["whole", "plan", "sound", "part", "join"]


class RenderInput(JobInput):
    operation: Literal["render"]
    output_filename: str | None = None
    width: FrameSide = 1920
    height: FrameSide = 1080
    frame_rate: float = Field(30, ge=1, le=120)
    scenes: list[Scene] = Field(min_length=1)
    transition: TransitionOptions = TransitionOptions()
    narration: NarrationOptions | None = None
    fit_to_narration: bool = False
    music: MusicUnder | None = None
    captions: Captions | None = None
    # A split render (docs/render.md): the timeline only, the whole timeline's sound, one frame range's
    # picture, or the parts and the sound copied together.
    plan_only: bool = False
    sound_only: bool = False
    part: PartRange | None = None
    join: JoinParts | None = None

    @field_validator("scenes", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any) -> Any:
        return within_limit(value, "VIDEO_OPS_MAX_SCENES", DEFAULT_MAX_SCENES, "scenes")

    @model_validator(mode="after")
    def _narration_to_fit(self) -> RenderInput:
        if self.fit_to_narration and self.narration is None:
            raise ValueError("'fit_to_narration' needs a 'narration'")
        if self.captions is not None and self.captions.from_narration and self.narration is None:
            raise ValueError("'captions.from_narration' needs a 'narration'")
        if self.plan_only + self.sound_only + (self.part is not None) + (self.join is not None) > 1:
            raise ValueError("give at most one of 'plan_only', 'sound_only', 'part' and 'join'")
        if (self.sound_only or self.part or self.join) and not self.output_filename:
            raise ValueError("a split render's 'sound_only', 'part' and 'join' need the final 'output_filename'")
        return self

    @property
    def stage(self) -> Stage:
        if self.plan_only:
            return "plan"
        if self.sound_only:
            return "sound"
        return "part" if self.part is not None else "join" if self.join is not None else "whole"
