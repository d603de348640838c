"""Responses shared by the pages and the API."""

from django.http import HttpResponse


def pdf_response(content: bytes, name: str) -> HttpResponse:
    """A PDF shown in the browser (inline), saved under `name`.pdf if the user keeps it."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response
