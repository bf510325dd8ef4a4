"""Content-addressed byte store: a document's SHA-256 is its name.

Backends only move bytes; the base class checks every read against the hash, so a
changed file is detected whichever backend holds it. MUSTER_DOCUMENT_STORE (a dotted
path) picks the backend; the default keeps files under MUSTER_HOME/documents.
"""

import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_STORE = "muster.documents.storage.FileSystemStore"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class DocumentMissing(LookupError):
    """No bytes are stored under this hash."""


class DocumentTampered(Exception):
    """The stored bytes no longer hash to their name."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_once(path: Path, data: bytes, mode: int = 0o444) -> bool:
    """Write `data` to `path` atomically unless it exists; True if this call wrote it.

    A hard link of a complete temporary file fails when the target exists, so readers
    never see half a file and a second writer never replaces the first one's bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    finally:
        os.unlink(tmp)
    # The new name is durable only once its directory entry is.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


class DocumentStore(ABC):
    """put(bytes) -> sha256, get(sha256) -> bytes, exists(sha256); subclasses move bytes."""

    def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        if not self.exists(digest):
            self._write(digest, data)
        return digest

    def get(self, digest: str) -> bytes:
        data = self._read(_checked(digest))
        if sha256_of(data) != digest:
            raise DocumentTampered(f"stored document {digest} does not match its hash")
        return data

    @abstractmethod
    def exists(self, digest: str) -> bool:
        """Whether the store holds bytes under this hash."""

    @abstractmethod
    def _write(self, digest: str, data: bytes) -> None:
        """Keep the bytes under their hash, never replacing what is there."""

    @abstractmethod
    def _read(self, digest: str) -> bytes:
        """The bytes under this hash (checked against it by `get`)."""


class FileSystemStore(DocumentStore):
    """Files at <root>/sha256/<first two hex digits>/<hash>, read-only, never replaced."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else Path(settings.MUSTER_HOME) / "documents"

    def path(self, digest: str) -> Path:
        digest = _checked(digest)
        return self.root / "sha256" / digest[:2] / digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def _write(self, digest: str, data: bytes) -> None:
        write_once(self.path(digest), data)

    def _read(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError:
            raise DocumentMissing(f"no stored document {digest}") from None


def _checked(digest: str) -> str:
    # The hash becomes a file name: anything but 64 lowercase hex digits is refused.
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
    return digest


def get_store() -> DocumentStore:
    return import_string(getattr(settings, "MUSTER_DOCUMENT_STORE", DEFAULT_STORE))()
