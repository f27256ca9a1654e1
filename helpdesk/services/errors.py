"""Errors services raise for input they refuse; views show them next to the fields."""
from __future__ import annotations


class ValidationError(ValueError):
    """Bad input, per field: ``{"to": ["bob@: ..."], "subject": ["required"]}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors
