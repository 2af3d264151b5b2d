"""The word-by-word caption `style` as callers send it -> a HighlightLook.

The reference worker's flat keys (`fonte`, `tamanho_fonte`, colours as r/g/b integers...) with its
defaults; every r/g/b triple may also be given as one hex colour (`texto_cor: "#FFFFFF"`), and the
structured `style` of `caption` (`font`, `colors`, `border`, `position`) is accepted on top.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from pydantic import Field, model_validator

from video_ops.base.models import StrictModel
from video_ops.subtitles.colours import Rgba
from video_ops.subtitles.highlight import HighlightLook, Mode
from video_ops.subtitles.style import (
    BorderOptions,
    ColourOptions,
    ColourValue,
    FontName,
    FontOptions,
    Length,
    PositionOptions,
    alignment_number,
)

Channel = Annotated[int, Field(ge=0, le=255)]
_TRIPLES = {  # the reference's colour keys -> HighlightLook fields
    "fundo_cor": "background", "texto_cor": "text", "highlight_texto_cor": "highlight_text",
    "highlight_cor": "highlight",
}
REFERENCE_FONT = "Arial Black"


class HighlightStyle(StrictModel):
    fonte: FontName = REFERENCE_FONT
    tamanho_fonte: float = Field(72, gt=0, le=500)
    fundo_cor_r: Channel | None = None
    fundo_cor_g: Channel | None = None
    fundo_cor_b: Channel | None = None
    fundo_cor: ColourValue | None = None
    fundo_opacidade: Channel | None = None  # 0 transparent .. 255 opaque; default 128
    fundo_arredondado: bool = True
    texto_cor_r: Channel | None = None
    texto_cor_g: Channel | None = None
    texto_cor_b: Channel | None = None
    texto_cor: ColourValue | None = None
    highlight_texto_cor_r: Channel | None = None
    highlight_texto_cor_g: Channel | None = None
    highlight_texto_cor_b: Channel | None = None
    highlight_texto_cor: ColourValue | None = None
    highlight_cor_r: Channel | None = None
    highlight_cor_g: Channel | None = None
    highlight_cor_b: Channel | None = None
    highlight_cor: ColourValue | None = None
    highlight_borda: float = Field(12, ge=0, le=100)
    padding_horizontal: Length = 40
    padding_vertical: Length = 80
    words_per_line: int = Field(4, ge=1, le=20)
    max_lines: int = Field(2, ge=1, le=10)
    alignment: Annotated[int, Field(ge=1, le=9)] = 2
    uppercase: bool = False
    # caption's structured style, as an alternative
    font: FontOptions = FontOptions()
    colors: ColourOptions = ColourOptions()
    border: BorderOptions = BorderOptions()
    position: PositionOptions = PositionOptions()

    @model_validator(mode="before")
    @classmethod
    def _named_alignment(cls, data: Any) -> Any:
        if isinstance(data, dict) and "alignment" in data:
            return {**data, "alignment": alignment_number(data["alignment"])}
        return data

    @model_validator(mode="after")
    def _one_form_per_colour(self) -> HighlightStyle:
        for name in _TRIPLES:
            channels = [getattr(self, f"{name}_{c}") for c in "rgb"]
            if getattr(self, name) is not None and any(c is not None for c in channels):
                raise ValueError(f"give {name} or {name}_r/_g/_b, not both")
        if self.fundo_opacidade is not None and self.fundo_cor is not None and self.fundo_cor.a:
            raise ValueError("give the background's opacity in fundo_opacidade or in fundo_cor's #RRGGBBAA, not both")
        return self

    def look(self, font: str, mode: Mode) -> HighlightLook:
        """The look asked for, with `font` (the installed family chosen for the font name asked for)."""
        defaults = HighlightLook(font=font)
        colours = {field: self._colour(name, getattr(defaults, field)) for name, field in _TRIPLES.items()}
        if self.fundo_opacidade is not None or self.fundo_cor is None:
            opacity = 128 if self.fundo_opacidade is None else self.fundo_opacidade
            colours["background"] = colours["background"]._replace(a=255 - opacity)
        look = replace(defaults, size=self.font.size or self.tamanho_fonte, bold=bool(self.font.bold), **colours,
                       rounded=self.fundo_arredondado, border=self.highlight_borda,
                       padding_h=self.padding_horizontal, padding_v=self.padding_vertical,
                       alignment=self.position.alignment or self.alignment, mode=mode, uppercase=self.uppercase,
                       words_per_line=self.words_per_line, max_lines=self.max_lines)
        structured = {
            "text": self.colors.primary, "outline_colour": self.colors.outline, "background": self.colors.background,
            "outline": self.border.width, "margin_v": self.position.margin_vertical,
            "margin_h": self.position.margin_horizontal,
        }
        return replace(look, **{key: value for key, value in structured.items() if value is not None})

    def font_name(self) -> tuple[str, str]:
        """The font asked for and the field that named it."""
        if self.font.name is not None:
            return self.font.name, "style.font.name"
        return self.fonte, "style.fonte"

    def _colour(self, name: str, default: Rgba) -> Rgba:
        given: Rgba | None = getattr(self, name)
        if given is not None:
            return given
        r, g, b = (getattr(self, f"{name}_{c}") for c in "rgb")
        return Rgba(default.r if r is None else r, default.g if g is None else g, default.b if b is None else b,
                    default.a)
