"""The reference orchestrator's `caption_style` body, turned into the worker's `caption_segments` or
`caption_highlight` input as that orchestrator mapped it.

Segments keep the worker's style (its `position.alignment` may be a name, `bottom_center`...). Highlight
takes the flat style with hex colours and a percent opacity: `position` becomes `alignment`, the
opacity becomes 0-255 (`round(p / 100 * 255)`), and `highlight_texto_cor` defaults to `texto_cor`.
Fields the reference did not know are refused, naming them, as its validation did. Beside its `url_caption`,
`transcribe` (transcribe's options) has the worker hear the video's own speech in the same job.
"""

from __future__ import annotations

from typing import Any

from video_ops.gateway.intake import Refusal

FIELDS = ("url_video", "url_caption", "transcribe", "type", "uppercase", "style", "path", "output_filename",
          "s3_config")
HIGHLIGHT_STYLE = ("fonte", "tamanho_fonte", "fundo_cor", "fundo_opacidade", "fundo_arredondado", "texto_cor",
                   "highlight_texto_cor", "highlight_cor", "highlight_borda", "padding_horizontal",
                   "padding_vertical", "position", "words_per_line", "max_lines")
KINDS = {"segments": "caption_segments", "highlight": "caption_highlight"}


def to_worker_input(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(the worker's operation, its input) for a caption_style body."""
    _refuse_unknown(body, FIELDS, "")
    kind = body.get("type")
    if kind not in KINDS:
        raise _invalid("field 'type' must be 'segments' or 'highlight'")
    if ("url_caption" in body) == ("transcribe" in body):
        raise _invalid("give the captions as 'url_caption' (the SRT or words file) or have them heard in the "
                       "video's own speech with 'transcribe' (one of them)")
    if "url_caption" in body and not isinstance(body["url_caption"], str):
        raise _invalid("field 'url_caption' must be a URL")
    style = body.get("style", {})
    if not isinstance(style, dict):
        raise _invalid("field 'style' must be an object")
    worker = {key: body[key] for key in ("url_video", "transcribe", "path", "output_filename", "s3_config")
              if key in body}
    if kind == "segments":
        worker.update(style=_with_uppercase(dict(style), body))
        if "url_caption" in body:
            worker["url_srt"] = body["url_caption"]
    else:
        worker["style"] = _with_uppercase(_highlight_style(style), body)
        if "url_caption" in body:
            worker[_words_field(body["url_caption"])] = body["url_caption"]
    return KINDS[kind], worker


def _words_field(url: str) -> str:
    """An SRT goes to caption_highlight's `url_srt`, anything else to its `url_words_json`."""
    return "url_srt" if url.lower().split("?")[0].endswith(".srt") else "url_words_json"


def _highlight_style(style: dict[str, Any]) -> dict[str, Any]:
    _refuse_unknown(style, HIGHLIGHT_STYLE, "style.")
    mapped = {key: value for key, value in style.items() if key not in ("position", "fundo_opacidade")}
    if "position" in style:
        mapped["alignment"] = style["position"]
    if "fundo_opacidade" in style:
        percent = style["fundo_opacidade"]
        if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100:
            raise _invalid("field 'style.fundo_opacidade' must be a percentage from 0 to 100")
        mapped["fundo_opacidade"] = round(percent / 100 * 255)
    if "highlight_texto_cor" not in style and "texto_cor" in style:
        mapped["highlight_texto_cor"] = style["texto_cor"]
    return mapped


def _with_uppercase(style: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    return {**style, "uppercase": body["uppercase"]} if "uppercase" in body else style


def _refuse_unknown(given: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
    unknown = [name for name in given if name not in known]
    if unknown:
        names = ", ".join(f"'{prefix}{name}'" for name in unknown[:5])
        raise _invalid(f"unknown field{'s' if len(unknown) > 1 else ''} {names} for caption_style")


def _invalid(problem: str) -> Refusal:
    return Refusal(400, "Invalid input", f"Invalid input: {problem}.")
