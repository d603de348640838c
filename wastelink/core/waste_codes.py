"""Waste codes (six digits `CC SS EE`, after the EU List of Waste) and their hazard marks.

Thailand marks hazardous entries HA (always hazardous) or HM (hazardous when it contains dangerous substances)
instead of the EU asterisk. Where the Thai mark has not been verified, the EU flag stands in: a starred EU entry
is treated as HA-equivalent (hazardous) until an officer records the Thai mark.
"""

from __future__ import annotations

import re
from enum import StrEnum

_CODE_RE = re.compile(r"^\s*(\d{2})\s*(\d{2})\s*(\d{2})\s*\*?\s*$")


class HazardMark(StrEnum):
    HA = "HA"  # always hazardous
    HM = "HM"  # hazardous when it contains dangerous substances (mirror entry)
    NONE = "none"  # non-hazardous


def parse_waste_code(raw: str) -> str:
    """Accepts '160211', '16 02 11' or '16 02 11*' and returns '160211'; raises ValueError otherwise."""
    match = _CODE_RE.match(raw or "")
    if not match:
        raise ValueError("must be a six-digit waste code such as 16 02 11")
    return "".join(match.groups())


def display_code(code: str) -> str:
    return (
        f"{code[0:2]} {code[2:4]} {code[4:6]}"
        if len(code) == 6
        else " ".join(code[i : i + 2] for i in range(0, len(code), 2))
    )


def effective_mark(th_mark: str | None, eu_hazardous: bool) -> HazardMark:
    """The mark the rules use: the Thai mark where known, otherwise the EU flag (starred → HA)."""
    if th_mark:
        return HazardMark(th_mark)
    return HazardMark.HA if eu_hazardous else HazardMark.NONE


def is_hazardous(mark: HazardMark) -> bool:
    """HA and HM entries are both handled as hazardous waste for permits, manifests and GPS duty."""
    return mark in (HazardMark.HA, HazardMark.HM)
