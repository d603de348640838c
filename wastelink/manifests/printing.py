"""The printable manifest (PDF, Thai, QR code with the manifest number for the receiver's gate)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from wastelink.core.thai_dates import format_thai_datetime
from wastelink.manifests.models import Manifest
from wastelink.manifests.services.document import document_hash
from wastelink.permits.certificate import _font_dir, qr_data_uri


def gate_url(m: Manifest) -> str:
    return f"{settings.SITE_URL}/gate/?q={m.number}"


def render_manifest(m: Manifest) -> bytes:
    from weasyprint import HTML

    with translation.override("th"):
        html = render_to_string("manifests/manifest_pdf.html", {
            "m": m, "qr": qr_data_uri(gate_url(m)), "font_dir": _font_dir(), "sha256": document_hash(m),
            "pickup": format_thai_datetime(timezone.localtime(m.planned_pickup_at)),
            "arrival": format_thai_datetime(timezone.localtime(m.expected_arrival_at)),
            "signatures": [(s, format_thai_datetime(timezone.localtime(s.signed_at))) for s in m.signatures.all()],
        })  # fmt: skip
    return HTML(string=html, base_url=str(settings.PACKAGE_DIR)).write_pdf()
