from datetime import date, datetime

import pytest

from wastelink.core import thai_dates
from wastelink.core.waste_codes import (
    HazardMark,
    display_code,
    effective_mark,
    is_hazardous,
    parse_waste_code,
)


@pytest.mark.parametrize("raw", ["160211", "16 02 11", "16 02 11*", " 160211 "])
def test_waste_code_forms_parse_to_six_digits(raw):
    assert parse_waste_code(raw) == "160211"


@pytest.mark.parametrize("raw", ["", "1602", "16-02-11", "abcdef", "1602111"])
def test_malformed_waste_codes_are_refused(raw):
    with pytest.raises(ValueError):
        parse_waste_code(raw)


def test_display_code_spaces_pairs():
    assert display_code("160211") == "16 02 11"


def test_thai_mark_wins_over_the_eu_flag():
    # 16 02 11 is starred in the EU list but HM in Thailand.
    assert effective_mark("HM", True) is HazardMark.HM
    assert effective_mark("none", True) is HazardMark.NONE
    assert effective_mark(None, True) is HazardMark.HA
    assert effective_mark(None, False) is HazardMark.NONE


def test_ha_and_hm_are_hazardous():
    assert is_hazardous(HazardMark.HA) and is_hazardous(HazardMark.HM) and not is_hazardous(HazardMark.NONE)


def test_buddhist_era_formatting():
    assert thai_dates.be_year(2026) == 2569
    assert thai_dates.ce_year(2569) == 2026
    assert thai_dates.format_thai_date(date(2026, 11, 28)) == "28 พ.ย. 2569"
    assert thai_dates.format_thai_date(date(2026, 1, 5), long=True) == "5 มกราคม 2569"
    assert thai_dates.format_thai_datetime(datetime(2026, 11, 28, 23, 48)) == "28 พ.ย. 2569 23:48 น."


@pytest.mark.parametrize(
    ("day", "fy"), [(date(2025, 9, 30), 2025), (date(2025, 10, 1), 2026), (date(2026, 9, 30), 2026)]
)
def test_fiscal_year_runs_october_to_september(day, fy):
    assert thai_dates.fiscal_year(day) == fy
    start, end = thai_dates.fiscal_year_bounds(fy)
    assert start <= day <= end
