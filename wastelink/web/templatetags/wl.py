"""Template filters: Buddhist Era dates in Thai, CE in English, always in Asia/Bangkok time."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import get_language

from wastelink.core.thai_dates import format_thai_date, format_thai_datetime

register = template.Library()


def _thai() -> bool:
    return (get_language() or "th").startswith("th")


@register.filter
def local_dt(value: datetime | None) -> str:
    if not value:
        return "–"
    local = timezone.localtime(value)
    if _thai():
        return format_thai_datetime(local)
    return formats.date_format(local, "j M Y H:i")


@register.filter
def local_date(value: date | datetime | None) -> str:
    if not value:
        return "–"
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    if _thai():
        return format_thai_date(value)
    return formats.date_format(value, "j M Y")


@register.filter
def localised(obj, field: str = "name") -> str:
    """obj.name_th in Thai, obj.name_en in English, falling back to whichever exists."""
    th, en = getattr(obj, f"{field}_th", ""), getattr(obj, f"{field}_en", "")
    return (th or en) if _thai() else (en or th)


@register.filter
def span(value) -> str:
    """A timedelta as '1 วัน 18 ชม.' in Thai or '1 d 18 h' in English (minutes when under an hour)."""
    if value is None:
        return "–"
    total = int(value.total_seconds())
    days, rest = divmod(max(total, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    th = _thai()
    parts = []
    if days:
        parts.append(f"{days} วัน" if th else f"{days} d")
    if hours or days:
        parts.append(f"{hours} ชม." if th else f"{hours} h")
    if not days:
        parts.append(f"{minutes} นาที" if th else f"{minutes} min")
    return " ".join(parts)
