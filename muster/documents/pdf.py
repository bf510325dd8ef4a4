"""Summons PDFs: rendered with ReportLab, signed PAdES and verified with pyHanko.

The summons is a legal document that must read the same to everyone who holds it, so
its fixed text is printed in Russian and English side by side rather than translated
at render time. The fonts ship with muster (DejaVu Sans) because ReportLab's built-in
Helvetica has no Cyrillic and a fresh machine may have no fonts at all.
"""

import datetime as dt
from functools import cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from muster.registry.identifiers import format_snils

from . import pki

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
SIGNATURE_FIELD = "OfficeSignature"
QR_FORM = "summonsQR"

PURPOSES = {
    "registration": "постановка на воинский учёт / military registration",
    "medical": "медицинское освидетельствование / medical examination",
    "clarification": "уточнение данных воинского учёта / clarification of registration data",
    "call_up": "призыв на военную службу / call-up for military service",
}


def legal_notice(deemed_days: int) -> list[str]:
    """The delivery rules and the restriction that follows placement (reference pack)."""
    return [
        "Повестка считается врученной с момента её размещения в личном кабинете на портале "
        "государственных услуг; если личного кабинета нет — с момента вручения лично или по почте "
        f"под расписку; в остальных случаях — по истечении {deemed_days} дней со дня размещения "
        "в реестре повесток. Со дня размещения повестки в реестре гражданину запрещается выезд "
        "из Российской Федерации до явки по повестке.",
        "The summons is delivered when it is posted to your account on the public services portal; "
        "if you have no account, when it is handed to you in person or by post against signature; "
        f"otherwise it is deemed delivered {deemed_days} days after it was placed in the summons "
        "registry. From the day of placement you may not leave the country until you appear.",
    ]


@cache
def _fonts() -> None:
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


class QrCode(Flowable):
    """A QR code drawn as vector squares in a named form XObject, crisp at any zoom."""

    def __init__(self, data: str, size: float):
        super().__init__()
        self.qr = segno.make(data, error="m", micro=False)
        self.size = size
        self.width = self.height = size

    def draw(self):
        rows = self.qr.matrix
        module = self.size / len(rows)
        c = self.canv
        c.beginForm(QR_FORM, 0, 0, self.size, self.size)
        c.setFillColor(colors.black)
        for r, row in enumerate(rows):
            y = self.size - (r + 1) * module
            col = 0
            # One rectangle per run of dark modules keeps the stream small.
            while col < len(row):
                if row[col]:
                    start = col
                    while col < len(row) and row[col]:
                        col += 1
                    c.rect(start * module, y, (col - start) * module, module, stroke=0, fill=1)
                else:
                    col += 1
        c.endForm()
        c.doForm(QR_FORM)


def render_summons(s: dict) -> bytes:
    """An A4 summons: who, where, when, why, the delivery rules and a QR to the public check."""
    _fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=13)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=11)
    title = ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=18, leading=22)
    label = ParagraphStyle("label", parent=small, textColor=colors.HexColor("#505a5f"))
    notice = ParagraphStyle("notice", parent=small, spaceAfter=4)
    number = ParagraphStyle("number", parent=base, fontName=FONT_BOLD, fontSize=12)

    def p(text, style=base):
        return Paragraph(escape(str(text)), style)

    full_name = " ".join(x for x in (s["surname"], s["given_name"], s.get("patronymic")) if x)
    office = f"{s['office_name']} ({s['office_code']})"
    if s.get("office_address"):
        office += f", {s['office_address']}"
    rows = [
        ("Номер / Number", s["number"]),
        ("Гражданин / Citizen", full_name),
        ("Дата рождения / Date of birth", _date(s["birth_date"])),
        ("СНИЛС / Insurance number (SNILS)", _snils(s["national_id"])),
        ("Военный комиссариат / Recruitment office", office),
        ("Цель явки / Purpose", PURPOSES.get(s["purpose"], s["purpose"])),
        ("Явиться / Appear at", _when(s["appear_at"])),
        ("Место явки / Place", s["place"]),
        ("Выдал / Issued by", s["issued_by"]),
        ("Размещена в реестре / Placed in the registry", _when(s["placed_at"])),
    ]
    table = Table([[p(k, label), p(v)] for k, v in rows], colWidths=[62 * mm, 108 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#b1b4b6")),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    check = [
        p("Проверить подлинность повестки / Check that this summons is genuine:", small),
        p(s["verify_url"], small),
    ]
    qr = Table([[QrCode(s["verify_url"], 34 * mm), check]], colWidths=[40 * mm, 130 * mm])
    qr.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story = [
        Paragraph("ПОВЕСТКА / SUMMONS", title),
        p(f"№ {s['number']}", number),
        Spacer(1, 5 * mm),
        table,
        Spacer(1, 6 * mm),
        *[p(text, notice) for text in legal_notice(int(s.get("deemed_delivery_days", 7)))],
        Spacer(1, 6 * mm),
        qr,
        Spacer(1, 4 * mm),
        p(
            "Документ подписан электронной подписью военного комиссариата. / "
            "This document carries the recruitment office's electronic signature.",
            small,
        ),
    ]
    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Summons {s['number']}",
        author=s["office_name"],
        subject="Повестка / Summons",
        creator="muster",
    )
    doc.build(story)
    return out.getvalue()


def sign_pdf(pdf: bytes, office_code: str, office_name: str, *, reason: str, location: str) -> bytes:
    """Sign PAdES baseline B-B with the office's key (appended as an incremental update)."""
    signer = pki.office_signer(office_code, office_name)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=pki.office_common_name(office_code),
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    # A fixed reservation skips pyHanko's dry-run signature (half the signing time); 8 KiB
    # holds a CMS object with an RSA chain, let alone the demo CA's EC certificates.
    return signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=8192).getvalue()


def verify_pdf(pdf: bytes) -> dict:
    """Validate every signature against the demo CA; nothing after it may change content.

    intact: the signed bytes are unchanged and any later update is only validation data;
    valid: intact and the signer's certificate chains to the CA with a usable key usage.
    """
    result = {"valid": False, "intact": False, "signer": "", "signed_at": None, "problem": ""}
    try:
        signatures = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures
        if not signatures:
            return result | {"problem": "the document carries no signature"}
        context = ValidationContext(trust_roots=[pki.ca_certificate()], allow_fetching=False)
        statuses = [validate_pdf_signature(sig, context) for sig in signatures]
    except (PdfError, SignatureValidationError, ValueError) as exc:
        return result | {"problem": f"the document cannot be validated: {exc}"}
    first = statuses[0]
    # After the newest signature only validation data (DSS, timestamps) may follow; after an
    # earlier one, also the signature fields that later signers filled in.
    last = len(statuses) - 1
    intact = all(
        st.intact
        and st.valid
        and (st.modification_level or ModificationLevel.NONE)
        <= (ModificationLevel.LTA_UPDATES if i == last else ModificationLevel.FORM_FILLING)
        for i, st in enumerate(statuses)
    )
    valid = intact and all(st.bottom_line for st in statuses)
    if not intact:
        problem = "the document was changed after it was signed"
    elif not valid:
        problem = "the signer's certificate is not trusted"
    else:
        problem = ""
    signed_at = first.signer_reported_dt
    return {
        "valid": valid,
        "intact": intact,
        "signer": _common_name(first.signing_cert),
        "signed_at": signed_at.isoformat() if signed_at else None,
        "problem": problem,
    }


def _common_name(cert) -> str:
    return cert.subject.native.get("common_name", "") if cert is not None else ""


def _snils(value: str) -> str:
    return format_snils(value) if len(value) == 11 and value.isdigit() else value


def _date(value) -> str:
    d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return d.strftime("%d.%m.%Y")


def _when(value) -> str:
    """A moment as printed: local time of the deployment, with its zone's name."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
        return f"{moment:%d.%m.%Y %H:%M} {moment.tzname()}"
    return f"{moment:%d.%m.%Y %H:%M}"
