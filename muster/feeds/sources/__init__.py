"""The source adapters, by the names of SPEC section 4."""

from .base import ChunkContext, Source
from .population import Population

SOURCES: dict[str, type[Source]] = {cls.name: cls for cls in (Population,)}

__all__ = ["SOURCES", "ChunkContext", "Source"]
