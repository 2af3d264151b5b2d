"""The strictness every input model shares, kept here so building blocks can declare their options too."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown fields are errors: a typo like `url_vidoe` must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
