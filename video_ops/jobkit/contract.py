"""The wire contract's common part: strict input models and how their errors read.

Each operation declares its own input model (in `video_ops/ops/`) on top of `JobInput`; the worker
only knows this base, so adding an operation never touches the worker.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints, ValidationError

from video_ops.base.errors import JobError
from video_ops.base.models import StrictModel
from video_ops.base.settings import env_int
from video_ops.io.storage import S3Config

if TYPE_CHECKING:
    from video_ops.jobkit.context import JobContext


# A URL as callers send it: surrounding whitespace trimmed; the scheme and host are checked on download.
UrlField = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8192)]


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("Input should be a number, not true or false")
    return value


# A number as callers send it (numeric text such as "12" included); pydantic alone would take `true` as 1.
NumberField = Annotated[float, BeforeValidator(_not_a_bool)]
WholeNumberField = Annotated[int, BeforeValidator(_not_a_bool)]


def _even(value: int) -> int:
    if value % 2:
        raise ValueError("must be an even number (H.264 4:2:0 video has even sizes)")
    return value


# A frame's width or height as callers may ask for it.
FrameSide = Annotated[int, Field(ge=16, le=4096), AfterValidator(_even)]


def within_limit(value: Any, setting: str, default: int, what: str) -> Any:
    """For a `mode="before"` validator: a list longer than the setting allows is refused before its items
    are validated, so a huge list costs nothing."""
    limit = env_int(setting, default)
    if isinstance(value, list) and len(value) > limit:
        raise ValueError(f"at most {limit} {what} per job (raise it with {setting})")
    return value


class JobInput(StrictModel):
    """Fields every operation accepts."""

    operation: str
    path: str = ""
    s3_config: S3Config | None = None


@dataclass(frozen=True)
class Operation:
    """One operation: its input contract and the coroutine that carries it out."""

    name: str
    input_model: type[JobInput]
    run: Callable[[JobContext, Any], Awaitable[dict[str, Any]]]


def parse_input(raw: Any, operations: dict[str, Operation]) -> tuple[Operation, JobInput]:
    """Pick the operation named by `operation` and validate the input against its model."""
    if not isinstance(raw, dict):
        raise JobError("Invalid input: the job's `input` must be a JSON object.")
    valid = ", ".join(sorted(operations))
    name = raw.get("operation")
    if name is None:
        raise JobError(f"Invalid input: missing required field 'operation' (one of: {valid}).")
    operation = operations.get(name) if isinstance(name, str) else None
    if operation is None:
        raise JobError(f"Invalid input: unknown operation {str(name)[:40]!r}; valid operations: {valid}.")
    try:
        return operation, operation.input_model.model_validate(raw)
    except ValidationError as err:
        raise JobError(describe_validation_error(err, operation.input_model)) from None


def describe_validation_error(err: ValidationError, model: type[BaseModel]) -> str:
    """One sentence naming each bad field by its path (`images[2].duracao`), never echoing values."""
    problems = [_describe_one(e, model) for e in err.errors(include_url=False, include_input=False)]
    shown = problems[:3]
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "Invalid input: " + "; ".join(shown) + more + "."


def _describe_one(error: Any, model: type[BaseModel]) -> str:
    location = field_path(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        fields = _fields_at(error["loc"], model)
        twin = next((names for names in fields.values() if error["loc"][-1] in names), None)
        if twin is not None:
            return f"'{location}' repeats a field given under another name (give one of: {', '.join(twin)})"
        return f"unknown field '{location}'{_suggestion(error['loc'], fields)}"
    if kind == "missing":
        return f"missing required field '{location}'"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"field '{location}': {message}" if location else message


def field_path(loc: Sequence[int | str]) -> str:
    """('images', 0, 'duracao') -> 'images[0].duracao'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-") or part.endswith("]"):
            continue  # pydantic's internal validator steps, meaningless to callers
        else:
            path += f".{part}" if path else part
    return path


def _fields_at(loc: Sequence[int | str], model: type[BaseModel]) -> dict[str, list[str]]:
    """The names (field name first, then its aliases) of each field of the model at `loc`'s parent."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        current = _inner_model(field.annotation) if field else None
    fields = getattr(current, "model_fields", None) or {}
    return {name: _names(name, info) for name, info in fields.items()}


def _names(name: str, info: Any) -> list[str]:
    names = [name]
    alias = info.validation_alias
    for candidate in [info.alias, *(getattr(alias, "choices", None) or [alias])]:
        if isinstance(candidate, str) and candidate not in names:
            names.append(candidate)
    return names


def _suggestion(loc: Sequence[int | str], fields: dict[str, list[str]]) -> str:
    """Suggest the nearest known field for a typo."""
    names = [n for group in fields.values() for n in group]
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _inner_model(annotation: Any) -> Any:
    """The model class inside `X`, `X | None` or `list[X]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
