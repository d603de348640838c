"""Buddhist Era dates and the Thai government fiscal year.

Thai users read years in the Buddhist Era (พ.ศ. = CE + 543). The fiscal year runs 1 October to 30 September and
is named after the CE year in which it ends (fiscal 2026 = 1 Oct 2025 to 30 Sep 2026).
"""

from __future__ import annotations

from datetime import date, datetime

BE_OFFSET = 543
THAI_MONTHS_ABBR = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
THAI_MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip


def be_year(ce_year: int) -> int:
    return ce_year + BE_OFFSET


def ce_year(be: int) -> int:
    return be - BE_OFFSET


def format_thai_date(value: date, *, long: bool = False) -> str:
    """'28 พ.ย. 2569' (or '28 พฤศจิกายน 2569' with long=True)."""
    months = THAI_MONTHS if long else THAI_MONTHS_ABBR
    return f"{value.day} {months[value.month - 1]} {be_year(value.year)}"


def format_thai_datetime(value: datetime) -> str:
    """'28 พ.ย. 2569 23:48 น.': the caller converts to Asia/Bangkok first."""
    return f"{format_thai_date(value)} {value:%H:%M} น."


def fiscal_year(value: date) -> int:
    """The CE fiscal year that contains the date."""
    return value.year + 1 if value.month >= 10 else value.year


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    return date(fy - 1, 10, 1), date(fy, 9, 30)
