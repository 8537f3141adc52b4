"""Calendar quarters such as ``2025-Q4``: parsing, ordering and arithmetic."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, NamedTuple

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_PATTERN = re.compile(r"(\d{4})-Q([1-4])")


class Quarter(NamedTuple):
    """A calendar quarter; tuples order them chronologically."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _PATTERN.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a quarter like 2025-Q4")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    def ordinal(self) -> int:
        """Quarters since year 0, so that differences are plain subtraction."""
        return self.year * 4 + self.number - 1

    def shift(self, quarters: int) -> Quarter:
        year, zero_based = divmod(self.ordinal() + quarters, 4)
        return Quarter(year, zero_based + 1)

    def quarters_since(self, earlier: Quarter) -> int:
        return self.ordinal() - earlier.ordinal()

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Guides write quarters as strings; a model field of this type accepts only
        # that spelling and serialises back to it.
        return core_schema.no_info_after_validator_function(
            cls.parse,
            core_schema.str_schema(strict=True),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )
