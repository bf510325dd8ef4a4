"""Documents: store a version (bytes, row and audit entry together), read it back verified.

The bytes go to the content-addressed store before the row is written: if the
transaction then rolls back, an unreferenced file is left behind (harmless, its name is
its hash), but a row never points at bytes that are not there.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from muster.audit.services import Actor
from muster.audit.services import record as audit

from . import pdf, pki
from .models import Document, DocumentType
from .storage import get_store

SUMMONS_RETENTION_YEARS = 5


def store_document(
    content: bytes,
    *,
    doc_type: str,
    media_type: str,
    now: dt.datetime,
    created_by: str | Actor,
    owner=None,
    office=None,
    retention_years: int,
    title: str,
    previous: Document | None = None,
    signed: bool = False,
    signer: str = "",
) -> Document:
    """Store one version of a document; `previous` makes it the next version of that one.

    `created_by` is a name, or the acting `Actor` (then the audit entry carries its role
    and office too).
    """
    if doc_type not in DocumentType.values:
        known = ", ".join(DocumentType.values)
        raise ValueError(f"unknown document type {doc_type!r}; types: {known}")
    if retention_years < 0:
        raise ValueError("retention_years must not be negative")
    if previous is not None and previous.doc_type != doc_type:
        raise ValueError(f"a new version of a {previous.doc_type} must be a {previous.doc_type}")
    actor = created_by if isinstance(created_by, Actor) else Actor(created_by)
    with transaction.atomic():
        digest = get_store().put(content)
        doc = Document.objects.create(
            sha256=digest,
            size=len(content),
            media_type=media_type,
            doc_type=doc_type,
            title=title,
            owner=owner,
            office=office,
            created_by=actor.name,
            created_at=now,
            retention_until=_years_after(timezone.localdate(now), retention_years),
            version=previous.version + 1 if previous is not None else 1,
            previous=previous,
            signed=signed,
            signer=signer,
        )
        detail = {
            "sha256": digest,
            "doc_type": doc_type,
            "size": doc.size,
            "version": doc.version,
            "previous": doc.previous_id,
            "signed": signed,
        }
        audit(
            actor,
            "document.store",
            at=now,
            object_type="document",
            object_id=str(doc.pk),
            person_id=doc.owner_id,
            detail=detail,
        )
    return doc


def open_document(doc: Document) -> bytes:
    """The document's bytes; raises storage.DocumentTampered if they no longer match the hash."""
    return get_store().get(doc.sha256)


def versions(doc: Document) -> list[Document]:
    """This version and every earlier one, newest first."""
    chain = [doc]
    while chain[-1].previous_id is not None:
        chain.append(Document.objects.get(pk=chain[-1].previous_id))
    return chain


def summons_document(s: dict, *, now: dt.datetime, created_by: str | Actor, owner, office) -> Document:
    """The summons as a PDF signed by its office, stored and audited (see pdf.render_summons)."""
    number = s["number"]
    content = pdf.sign_pdf(
        pdf.render_summons(s),
        office.code,
        office.name,
        reason=f"Summons {number}",
        location=office.name,
    )
    return store_document(
        content,
        doc_type=DocumentType.SUMMONS,
        media_type="application/pdf",
        now=now,
        created_by=created_by,
        owner=owner,
        office=office,
        retention_years=SUMMONS_RETENTION_YEARS,
        title=f"Summons {number}",
        signed=True,
        signer=pki.office_common_name(office.code),
    )


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        # 29 February in a year that has none: the next day, so retention is never cut short.
        return dt.date(day.year + years, 3, 1)
