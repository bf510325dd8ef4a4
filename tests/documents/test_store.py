"""The content-addressed store and document versions: nothing is overwritten, tampering shows."""

import datetime as dt
import hashlib
import os

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.test import override_settings

from muster.audit.models import AuditEntry
from muster.audit.services import Actor
from muster.documents import services
from muster.documents.models import Document
from muster.documents.storage import (
    DocumentMissing,
    DocumentStore,
    DocumentTampered,
    FileSystemStore,
    get_store,
    write_once,
)


class MemoryStore(DocumentStore):
    """A second backend, to show the setting picks it and the base class checks reads."""

    blobs: dict[str, bytes] = {}

    def exists(self, digest):
        return digest in self.blobs

    def _write(self, digest, data):
        self.blobs[digest] = data

    def _read(self, digest):
        return self.blobs[digest]


def _store(content=b"%PDF-1.7 certificate", **kw):
    args = {
        "doc_type": "certificate",
        "media_type": "application/pdf",
        "now": dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC),
        "created_by": "clerk1",
        "retention_years": 5,
        "title": "Medical certificate",
    }
    return services.store_document(content, **(args | kw))


def test_bytes_are_named_by_their_hash(tmp_path):
    store = FileSystemStore(tmp_path)
    digest = store.put(b"hello")
    assert digest == hashlib.sha256(b"hello").hexdigest()
    path = tmp_path / "sha256" / digest[:2] / digest
    assert path.read_bytes() == b"hello"
    assert store.get(digest) == b"hello"
    assert store.exists(digest)
    # Only the blob is left: the temporary file was renamed into place, not copied.
    assert os.listdir(path.parent) == [digest]


def test_storing_again_is_idempotent_and_never_rewrites(tmp_path):
    store = FileSystemStore(tmp_path)
    digest = store.put(b"same bytes")
    path = store.path(digest)
    before = path.stat()
    assert store.put(b"same bytes") == digest
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert path.stat().st_mode & 0o777 == 0o444


def test_write_once_never_replaces_a_file(tmp_path):
    path = tmp_path / "a" / "blob"
    assert write_once(path, b"first")
    assert not write_once(path, b"second")
    assert path.read_bytes() == b"first"
    assert os.listdir(path.parent) == ["blob"]


def test_a_changed_file_is_detected_on_read(tmp_path):
    store = FileSystemStore(tmp_path)
    digest = store.put(b"original")
    path = store.path(digest)
    path.chmod(0o644)
    path.write_bytes(b"forged")
    with pytest.raises(DocumentTampered, match=digest):
        store.get(digest)


def test_missing_and_malformed_hashes(tmp_path):
    store = FileSystemStore(tmp_path)
    with pytest.raises(DocumentMissing):
        store.get("0" * 64)
    with pytest.raises(ValueError, match="SHA-256"):
        store.get("../../etc/passwd")
    assert not store.exists("a" * 64)


def test_the_setting_picks_the_backend():
    assert isinstance(get_store(), FileSystemStore)
    with override_settings(MUSTER_DOCUMENT_STORE="tests.documents.test_store.MemoryStore"):
        digest = get_store().put(b"in memory")
        assert MemoryStore.blobs[digest] == b"in memory"
        MemoryStore.blobs[digest] = b"changed"
        with pytest.raises(DocumentTampered):
            get_store().get(digest)


@pytest.mark.django_db
def test_store_document_writes_bytes_row_and_audit_entry(person, office):
    doc = _store(b"cert v1", owner=person, office=office, created_by=Actor("clerk1", "clerk", office.code))
    assert doc.sha256 == hashlib.sha256(b"cert v1").hexdigest()
    assert (doc.size, doc.version, doc.previous, doc.signed) == (7, 1, None, False)
    assert doc.retention_until == dt.date(2031, 6, 1)
    assert services.open_document(doc) == b"cert v1"
    entry = AuditEntry.objects.get(action="document.store")
    assert (entry.object_id, entry.person_id, entry.actor, entry.actor_office) == (
        str(doc.pk),
        person.pk,
        "clerk1",
        office.code,
    )
    assert entry.detail["sha256"] == doc.sha256


@pytest.mark.django_db
def test_open_document_refuses_tampered_bytes():
    doc = _store(b"decision text", doc_type="decision")
    path = FileSystemStore().path(doc.sha256)
    path.chmod(0o644)
    path.write_bytes(b"decision text, amended")
    with pytest.raises(DocumentTampered):
        services.open_document(doc)


@pytest.mark.django_db
def test_a_new_version_keeps_the_previous_one():
    v1 = _store(b"report, first draft", doc_type="report", title="May report")
    v2 = _store(b"report, final", doc_type="report", title="May report", previous=v1)
    assert (v2.version, v2.previous_id) == (2, v1.pk)
    assert services.open_document(v1) == b"report, first draft"
    assert services.open_document(v2) == b"report, final"
    assert services.versions(v2) == [v2, v1]
    assert Document.objects.count() == 2
    # History is a line: a second successor of v1 is refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        _store(b"report, fork", doc_type="report", title="May report", previous=v1)
    with pytest.raises(ValueError, match="must be a report"):
        _store(b"not a report", previous=v2)


@pytest.mark.django_db
def test_the_database_refuses_to_rewrite_a_document():
    doc = _store()
    with pytest.raises(DatabaseError), transaction.atomic():
        Document.objects.filter(pk=doc.pk).update(sha256="0" * 64)
    assert Document.objects.get(pk=doc.pk).sha256 == doc.sha256


@pytest.mark.django_db
def test_a_rolled_back_store_leaves_no_row_and_no_audit_entry():
    def caller():
        with transaction.atomic():
            _store(b"doomed")
            raise RuntimeError("the caller's transaction fails")

    with pytest.raises(RuntimeError):
        caller()
    assert not Document.objects.exists()
    assert not AuditEntry.objects.filter(action="document.store").exists()


@pytest.mark.django_db
def test_retention_from_29_february_is_never_cut_short():
    doc = _store(now=dt.datetime(2028, 2, 29, 12, 0, tzinfo=dt.UTC), retention_years=5)
    assert doc.retention_until == dt.date(2033, 3, 1)


@pytest.mark.django_db
def test_unknown_document_type_is_refused():
    with pytest.raises(ValueError, match="unknown document type 'memo'"):
        _store(doc_type="memo")
