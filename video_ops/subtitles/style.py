"""How captions look: presets, the `style` object, and `force_style` strings, merged into one typed Look.

Lengths in a Look are pixels of a 1080-pixel-high frame; `ass.py` scales them by the real height, so a
style looks the same on 720p, 1080p, 4K, landscape or vertical. The order of precedence is
preset < force_style < style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from video_ops.base.models import StrictModel
from video_ops.subtitles.colours import FORMATS, Rgba, parse_colour

REFERENCE_HEIGHT = 1080
# FFmpeg's subtitles filter turns SRT into a script 288 lines high, so that is what the numbers in
# an older caller's force_style meant; reading them on that canvas keeps those captions' size.
FORCE_STYLE_HEIGHT = 288
OUTLINE, BOX = 1, 3  # ASS BorderStyle values
WHITE, BLACK, HALF_BLACK, TRANSLUCENT_BLACK = Rgba(255, 255, 255), Rgba(0, 0, 0), Rgba(0, 0, 0, 128), Rgba(0, 0, 0, 96)


@dataclass(frozen=True)
class Look:
    """A complete caption style, in ASS's own terms (lengths for a 1080-pixel-high frame)."""

    font: str
    size: float
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strikeout: bool = False
    primary: Rgba = WHITE
    outline_colour: Rgba = BLACK  # the text outline, or the box with BorderStyle 3
    back_colour: Rgba = HALF_BLACK  # the shadow (of the text, or of the box)
    border_style: int = OUTLINE
    outline: float = 3.0  # outline width, or the box's padding
    shadow: float = 0.0
    alignment: int = 2
    margin_l: float = 80.0
    margin_r: float = 80.0
    margin_v: float = 60.0
    scale_x: float = 100.0
    scale_y: float = 100.0
    spacing: float = 0.0
    angle: float = 0.0
    uppercase: bool = False


PresetName = Literal["default", "vertical", "boxed"]
PRESETS: dict[PresetName, Look] = {
    # Readable on any picture: bold sans, white, a firm black outline and a soft shadow.
    "default": Look(font="Noto Sans", size=54, bold=True, outline=3, shadow=1.5),
    # Short-video apps cover the bottom fifth and the right edge with buttons and descriptions:
    # big bold text a quarter of the way up, clear of both.
    "vertical": Look(font="Roboto Black", size=64, outline=4, shadow=0, margin_v=260, margin_l=90, margin_r=90),
    # White text on a translucent black box, for busy or bright pictures.
    "boxed": Look(font="Noto Sans", size=50, bold=True, border_style=BOX, outline=12, shadow=0,
                  outline_colour=TRANSLUCENT_BLACK, back_colour=TRANSLUCENT_BLACK),
}


def _colour(value: Any) -> Rgba:
    if isinstance(value, Rgba):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a colour must be a string ({FORMATS})")
    return parse_colour(value)


ColourValue = Annotated[Rgba, BeforeValidator(_colour)]
FontName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Length = Annotated[float, Field(ge=0, le=1000)]


class FontOptions(StrictModel):
    name: FontName | None = None
    size: float | None = Field(None, gt=0, le=500)
    bold: bool | None = None
    italic: bool | None = None


class ColourOptions(StrictModel):
    primary: ColourValue | None = None
    outline: ColourValue | None = None
    background: ColourValue | None = None  # the box with border.style "box", else the shadow


class BorderOptions(StrictModel):
    style: Literal["outline", "box"] | None = None
    width: float | None = Field(None, ge=0, le=100)


class PositionOptions(StrictModel):
    alignment: int | None = Field(None, ge=1, le=9)
    margin_vertical: Length | None = Field(None, alias="marginVertical")
    margin_horizontal: Length | None = Field(None, alias="marginHorizontal")


class StyleOptions(StrictModel):
    """The structured `style` object; every field optional, sizes in pixels of a 1080-high frame."""

    font: FontOptions = FontOptions()
    colors: ColourOptions = ColourOptions()
    border: BorderOptions = BorderOptions()
    position: PositionOptions = PositionOptions()
    uppercase: bool | None = None
    shadow: float | None = Field(None, ge=0, le=100)

    def apply(self, look: Look) -> Look:
        box = look.border_style == BOX if self.border.style is None else self.border.style == "box"
        colours = self.colors
        changes = {
            "font": self.font.name, "size": self.font.size, "bold": self.font.bold, "italic": self.font.italic,
            "primary": colours.primary,
            # In a box the ASS outline colour paints the box, so `background` takes its place there.
            "outline_colour": colours.background if box else colours.outline,
            "back_colour": colours.background,
            "border_style": None if self.border.style is None else (BOX if box else OUTLINE),
            "outline": self.border.width, "shadow": self.shadow,
            "alignment": self.position.alignment, "margin_v": self.position.margin_vertical,
            "margin_l": self.position.margin_horizontal, "margin_r": self.position.margin_horizontal,
            "uppercase": self.uppercase,
        }
        return replace(look, **{key: value for key, value in changes.items() if value is not None})


# force_style keys as ASS names them (any case), each with the Look field it sets and its reader.
def _flag(value: str) -> bool:
    if value not in {"0", "1", "-1"}:
        raise ValueError("must be 0, 1 or -1")
    return value != "0"


def _number(low: float, high: float, scale: float = 1.0):
    def read(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError("must be a number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return number * scale

    return read


def _choice(*allowed: int):
    def read(value: str) -> int:
        if value not in {str(a) for a in allowed}:
            raise ValueError("must be one of " + ", ".join(str(a) for a in allowed))
        return int(value)

    return read


def _font_name(value: str) -> str:
    if not value or len(value) > 100:
        raise ValueError("must be a font name")
    return value


_ON_CANVAS = REFERENCE_HEIGHT / FORCE_STYLE_HEIGHT
_FORCE_KEYS: dict[str, tuple[str, Any]] = {
    "fontname": ("font", _font_name),
    "fontsize": ("size", _number(1, 200, _ON_CANVAS)),
    "primarycolour": ("primary", parse_colour),
    "secondarycolour": ("", parse_colour),  # karaoke only: accepted, has no effect here
    "outlinecolour": ("outline_colour", parse_colour),
    "backcolour": ("back_colour", parse_colour),
    "bold": ("bold", _flag),
    "italic": ("italic", _flag),
    "underline": ("underline", _flag),
    "strikeout": ("strikeout", _flag),
    "scalex": ("scale_x", _number(1, 1000)),
    "scaley": ("scale_y", _number(1, 1000)),
    "spacing": ("spacing", _number(-50, 100, _ON_CANVAS)),
    "angle": ("angle", _number(-360, 360)),
    "borderstyle": ("border_style", _choice(OUTLINE, BOX)),
    "outline": ("outline", _number(0, 50, _ON_CANVAS)),
    "shadow": ("shadow", _number(0, 50, _ON_CANVAS)),
    "alignment": ("alignment", _choice(*range(1, 10))),
    "marginl": ("margin_l", _number(0, 1000, _ON_CANVAS)),
    "marginr": ("margin_r", _number(0, 1000, _ON_CANVAS)),
    "marginv": ("margin_v", _number(0, 1000, _ON_CANVAS)),
}
_KEY_NAMES = ("Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
              "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
              "MarginL, MarginR, MarginV")
_AMERICAN = re.compile(r"color$")


def parse_force_style(text: Any) -> dict[str, Any]:
    """`Fontname=Roboto,Fontsize=24,...` -> Look field values; any unknown key or bad value is an error."""
    if not isinstance(text, str):
        raise ValueError("must be a string like 'Fontname=Roboto,Fontsize=24'")
    if len(text) > 1000:
        raise ValueError("is longer than 1000 characters")
    changes: dict[str, Any] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, equals, value = item.partition("=")
        name = key.strip()
        if not equals:
            raise ValueError(f"{name[:30]!r} is not of the form Key=Value")
        entry = _FORCE_KEYS.get(_AMERICAN.sub("colour", name.lower()))
        if entry is None:
            raise ValueError(f"unknown key {name[:30]!r}; accepted keys: {_KEY_NAMES}")
        field, read = entry
        try:
            parsed = read(value.strip())
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
        if field:
            changes[field] = parsed
    return changes


ForceStyle = Annotated[dict[str, Any], BeforeValidator(parse_force_style)]


def resolve(preset: PresetName, force_style: dict[str, Any] | None, style: StyleOptions | None) -> Look:
    """The look a job asked for: its preset, then force_style, then style on top."""
    look = replace(PRESETS[preset], **(force_style or {}))
    return style.apply(look) if style else look


# The numpad names the reference's orchestrator sent for positions.
ALIGNMENT_NAMES = {
    "bottom_left": 1, "bottom_center": 2, "bottom_right": 3, "middle_left": 4, "middle_center": 5,
    "middle_right": 6, "top_left": 7, "top_center": 8, "top_right": 9, "center": 5,
}


def alignment_number(value: Any) -> Any:
    """`bottom_center` and the other numpad names the reference's orchestrator used -> 1..9."""
    return ALIGNMENT_NAMES.get(value.strip().lower(), value) if isinstance(value, str) else value
