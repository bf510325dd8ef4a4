"""Feed services: importing one file is one call; each chunk of it is one transaction."""

import datetime as dt
from pathlib import Path

from muster.audit.services import Actor

from .ingest import CHUNK_LINES, Importer, IngestError, write_receipt

__all__ = ["IngestError", "ingest"]


def ingest(
    source: str,
    path: Path,
    *,
    actor: Actor,
    now: dt.datetime,
    receipt: Path | None = None,
    progress: bool = False,
    chunk_lines: int = CHUNK_LINES,
    stop_after_chunks: int | None = None,
) -> dict:
    """Import one feed file; returns the counts of SPEC section 3 and writes the receipt if asked.

    Re-running a killed import resumes after its last committed chunk; re-importing a
    completed file changes nothing.
    """
    importer = Importer(source, path, actor, now, chunk_lines=chunk_lines, progress=progress)
    result = importer.run(stop_after_chunks=stop_after_chunks)
    if receipt is not None:
        write_receipt(result, receipt)
    return result.as_dict()
