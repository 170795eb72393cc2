"""The case package's refusals are the domain's (:mod:`juzheng.errors`); ``CaseError`` names their
common base for callers that catch any of them."""

from __future__ import annotations

from ..errors import Conflict, DomainError, Invalid, NotFound, Unavailable, field_error

CaseError = DomainError

__all__ = ["CaseError", "Conflict", "Invalid", "NotFound", "Unavailable", "field_error"]
