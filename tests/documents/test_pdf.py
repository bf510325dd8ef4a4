"""Summons PDFs: Cyrillic text, a QR code of the check URL, a PAdES signature that verifies."""

import datetime as dt
from io import BytesIO

import pytest
import segno
from cryptography import x509
from django.test import override_settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader
from pypdf.generic import ContentStream

from muster.audit.models import AuditEntry
from muster.documents import pdf, pki, services

pytestmark = pytest.mark.django_db


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def _qr_matrix(data: bytes) -> list[list[int]]:
    """Read the QR code back from the PDF's vector squares, module by module."""
    reader = PdfReader(BytesIO(data))
    page = reader.pages[0]
    xobjects = page["/Resources"]["/XObject"]
    [form] = [xobjects[name].get_object() for name in xobjects if pdf.QR_FORM in name]
    rects = [[float(v) for v in operands] for operands, op in ContentStream(form, reader).operations if op == b"re"]
    size = float(form["/BBox"][2])
    module = min(w for _, _, w, _ in rects)
    n = round(size / module)
    matrix = [[0] * n for _ in range(n)]
    for x, y, w, _ in rects:
        row = n - 1 - round(y / module)
        for col in range(round(x / module), round((x + w) / module)):
            matrix[row][col] = 1
    return matrix


def _signed(summons) -> bytes:
    return pdf.sign_pdf(
        pdf.render_summons(summons),
        summons["office_code"],
        summons["office_name"],
        reason="Summons",
        location="Moscow",
    )


def test_summons_pdf_shows_number_and_cyrillic_name(summons):
    text = _text(pdf.render_summons(summons))
    assert "ПОВЕСТКА / SUMMONS" in text
    assert summons["number"] in text
    assert f"{summons['surname']} {summons['given_name']} {summons['patronymic']}" in text
    assert "27.03.2004" in text
    assert "15.06.2026 10:00 MSK" in text
    assert "по истечении 7 дней" in text
    assert "may not leave the country" in text


def test_the_qr_code_encodes_the_check_url(summons):
    expected = [list(row) for row in segno.make(summons["verify_url"], error="m").matrix]
    assert _qr_matrix(pdf.render_summons(summons)) == expected


def test_signed_summons_verifies_against_the_demo_ca(summons):
    result = pdf.verify_pdf(_signed(summons))
    assert result["intact"], result
    assert result["valid"], result
    assert result["signer"] == f"Recruitment office {summons['office_code']}"
    signed_at = dt.datetime.fromisoformat(result["signed_at"])
    assert abs(dt.datetime.now(dt.UTC) - signed_at) < dt.timedelta(minutes=5)


def test_one_changed_byte_in_the_signed_range_fails(summons):
    signed = bytearray(_signed(summons))
    # A byte inside the page's content stream: the file still parses, the digest does not match.
    at = signed.index(b"stream", signed.index(b"/Contents")) + 40
    signed[at] ^= 0x01
    result = pdf.verify_pdf(bytes(signed))
    assert not result["valid"]
    assert not result["intact"]


def test_an_appended_update_that_changes_the_page_fails(summons):
    signed = _signed(summons)
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    overlay = generic.StreamObject(stream_data=b"0 0 1 rg 100 100 400 400 re f")
    writer.add_stream_to_page(0, writer.add_object(overlay))
    out = BytesIO()
    writer.write(out)
    result = pdf.verify_pdf(out.getvalue())
    assert not result["valid"]
    assert not result["intact"]
    assert result["problem"] == "the document was changed after it was signed"


def test_a_signature_from_another_ca_is_intact_but_not_valid(summons, tmp_path):
    with override_settings(MUSTER_HOME=tmp_path):
        foreign = _signed(summons)
    result = pdf.verify_pdf(foreign)
    assert result["intact"]
    assert not result["valid"]
    assert result["problem"] == "the signer's certificate is not trusted"


def test_unsigned_and_broken_files_are_not_valid(summons):
    assert pdf.verify_pdf(pdf.render_summons(summons))["problem"] == "the document carries no signature"
    result = pdf.verify_pdf(b"not a pdf at all")
    assert (result["valid"], result["intact"]) == (False, False)


def test_demo_ca_is_made_once(tmp_path, settings):
    settings.MUSTER_HOME = tmp_path
    key_path, cert_path = pki.ensure_demo_ca()
    key, cert = key_path.read_bytes(), cert_path.read_bytes()
    assert pki.ensure_demo_ca() == (key_path, cert_path)
    assert (key_path.read_bytes(), cert_path.read_bytes()) == (key, cert)
    assert key_path.stat().st_mode & 0o777 == 0o600
    ca = x509.load_pem_x509_certificate(cert)
    assert ca.subject.rfc4514_string() == "O=muster,CN=muster demo CA"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days >= 3652


def test_office_certificate_is_issued_by_the_ca_once(tmp_path, settings):
    settings.MUSTER_HOME = tmp_path
    pki.office_signer("77-01", "Moscow office 1")
    folder = tmp_path / "keys" / "offices"
    cert_pem = (folder / "77-01.cert.pem").read_bytes()
    pki.office_signer("77-01", "Moscow office 1")
    assert (folder / "77-01.cert.pem").read_bytes() == cert_pem
    assert (folder / "77-01.key.pem").stat().st_mode & 0o777 == 0o600
    cert = x509.load_pem_x509_certificate(cert_pem)
    ca = x509.load_pem_x509_certificate(pki.ca_certificate_pem())
    cert.verify_directly_issued_by(ca)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.digital_signature, usage.content_commitment, usage.key_cert_sign) == (
        True,
        True,
        False,
    )
    assert cert.subject.rfc4514_string() == "OU=Moscow office 1,O=muster,CN=Recruitment office 77-01"
    with pytest.raises(ValueError, match="office code"):
        pki.office_signer("../ca", "x")


def test_summons_document_is_rendered_signed_and_stored(summons, person, office, now):
    doc = services.summons_document(summons, now=now, created_by="clerk1", owner=person, office=office)
    assert (doc.doc_type, doc.media_type, doc.signed) == ("summons", "application/pdf", True)
    assert doc.signer == f"Recruitment office {office.code}"
    assert doc.retention_until == dt.date(2031, 6, 1)
    assert (doc.owner, doc.office, doc.title) == (person, office, f"Summons {summons['number']}")
    content = services.open_document(doc)
    assert pdf.verify_pdf(content)["valid"]
    assert summons["number"] in _text(content)
    assert AuditEntry.objects.filter(action="document.store", object_id=str(doc.pk)).exists()


def test_muster_init_creates_the_demo_ca(tmp_path):
    from muster import setup

    with override_settings(MUSTER_HOME=tmp_path):
        info = setup.init()
    assert {"demo-ca.key.pem", "demo-ca.cert.pem"} <= set(info["keys"])
