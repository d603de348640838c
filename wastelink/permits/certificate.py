"""The permit certificate: HTML + CSS rendered to PDF by WeasyPrint, in Thai with the Sarabun font.

WeasyPrint shapes Thai through Pango/HarfBuzz, so vowels and tone marks sit right and lines break between words.
The QR code points to the public verification page (number + verification code).
"""

from __future__ import annotations

import base64
from pathlib import Path

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone, translation

from wastelink.core.thai_dates import format_thai_date
from wastelink.permits.models import Permit


def verification_url(permit: Permit) -> str:
    return f"{settings.SITE_URL}/verify/{permit.number}/?code={permit.verification_code}"


def qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def _font_dir() -> str:
    found = finders.find("vendor/sarabun/Sarabun_400Regular.ttf")
    if not found:
        raise RuntimeError("the Sarabun font is missing: run 'make vendor'")
    return Path(found).parent.as_uri()


def render_certificate(permit: Permit) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango takes a moment and most requests never need it

    lines = list(permit.lines.select_related("waste_code", "method", "receiver", "stream").prefetch_related("transporters"))
    with translation.override("th"):
        html = render_to_string("permits/certificate.html", {
            "permit": permit, "lines": lines, "generator": permit.generator, "estate": permit.estate,
            "valid_from": format_thai_date(permit.valid_from, long=True),
            "valid_until": format_thai_date(permit.valid_until, long=True),
            "issued": format_thai_date(timezone.localtime(permit.issued_at).date(), long=True),
            "qr": qr_data_uri(verification_url(permit)), "verify_url": verification_url(permit),
            "font_dir": _font_dir(),
        })  # fmt: skip
    return HTML(string=html, base_url=str(settings.PACKAGE_DIR)).write_pdf()
