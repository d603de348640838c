import pytest
from hypothesis import given
from hypothesis import strategies as st

from wastelink.core import identifiers


@pytest.mark.parametrize(
    "value", ["72123456789012", "7-2123456789012", "10 000 000 000 003", "23999999999999"]
)
def test_valid_registration_numbers_are_accepted(value):
    assert identifiers.registration_number_problem(value) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("7212345678901", "14 digits"),
        ("721234567890123", "14 digits"),
        ("7212345678901X", "14 digits"),
        ("32123456789012", "issuing agency"),
        ("71123456789012", "location"),
        ("", "14 digits"),
    ],
)
def test_invalid_registration_numbers_name_the_reason(value, reason):
    assert reason in identifiers.registration_number_problem(value)


@given(st.text(max_size=30))
def test_registration_parser_never_crashes_and_agrees_with_problem(text):
    problem = identifiers.registration_number_problem(text)
    if problem is None:
        reg = identifiers.parse_registration_number(text)
        assert len(reg.value) == 14 and reg.value[0] in "127" and reg.value[1] in "023"
    else:
        with pytest.raises(ValueError):
            identifiers.parse_registration_number(text)


def test_inside_estate_follows_the_second_digit():
    assert identifiers.parse_registration_number("72000000000001").inside_estate
    assert identifiers.parse_registration_number("73000000000001").inside_estate
    assert not identifiers.parse_registration_number("10000000000001").inside_estate


@pytest.mark.parametrize("plate", ["70-1234", "71 5678", "1กข 1234", "กข1234", "2ฒห-99"])
def test_thai_plates_are_accepted(plate):
    assert identifiers.plate_problem(plate) is None


@pytest.mark.parametrize("plate", ["", "ABC-123", "70-12345", "1234"])
def test_non_thai_plates_are_refused(plate):
    assert identifiers.plate_problem(plate) is not None


def test_diw_ids():
    assert identifiers.diw_generator_id_problem("DIW-G-1234567") is None
    assert identifiers.diw_generator_id_problem("DIW-T-1234567") is not None
    assert identifiers.diw_transporter_id_problem("DIW-T-0000001") is None
    assert identifiers.diw_transporter_id_problem("DIW-T-123") is not None
