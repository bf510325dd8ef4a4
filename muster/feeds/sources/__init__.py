"""The source adapters, by the names of SPEC section 4."""

from .base import ChunkContext, Source
from .identified import IDENTIFIED
from .population import Population

SOURCES: dict[str, type[Source]] = {cls.name: cls for cls in (Population, *IDENTIFIED)}

__all__ = ["SOURCES", "ChunkContext", "Source"]
