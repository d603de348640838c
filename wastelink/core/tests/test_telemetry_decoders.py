"""Decoder tests with the message shapes real OsmAnd clients send (reference set: the GPS server's fixtures)."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wastelink.core.telemetry import DecodeError, decode_osmand_json, decode_osmand_query, problem

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def q(url: str) -> dict:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_iso_timestamp_and_knots():
    fix = decode_osmand_query(q("/?id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0"
                                "&altitude=224.0&speed=0.0"), NOW)  # fmt: skip
    assert fix.device_id == "902064" and fix.fix_time == datetime(2016, 1, 27, 18, 55, 47, tzinfo=UTC)
    assert (fix.lat, fix.lon, fix.accuracy, fix.altitude, fix.speed_kmh) == (42.06288, -88.23412, 6.0, 224.0, 0.0)


def test_unix_milliseconds():
    fix = decode_osmand_query(q("/?id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&hdop=6.0"), NOW)
    assert fix.fix_time == datetime(2015, 9, 12, 14, 38, 6, 579000, tzinfo=UTC)


def test_local_format_is_utc_and_deviceid_last():
    fix = decode_osmand_query(q("/?lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&altitude=384.7"
                                "&speed=0.0&id=353861053849681"), NOW)  # fmt: skip
    assert fix.device_id == "353861053849681" and fix.fix_time == datetime(2014, 6, 4, 9, 10, 11, tzinfo=UTC)


def test_unix_seconds_bearing_and_speed_in_knots():
    fix = decode_osmand_query(q("/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0&speed=10.0&bearing=90.0"), NOW)
    assert fix.fix_time == datetime(2013, 8, 22, 13, 14, 27, tzinfo=UTC)
    assert fix.speed_kmh == pytest.approx(18.52) and fix.course == 90.0


def test_deviceid_heading_and_missing_timestamp_means_now():
    fix = decode_osmand_query(q("/?lat=60.0&lon=30.0&speed=0.0&heading=0.0&vacc=0&hacc=0&altitude=0&deviceid=123456"), NOW)
    assert fix.device_id == "123456" and fix.fix_time == NOW and fix.course == 0.0


def test_battery_and_extra_attributes():
    fix = decode_osmand_query(q("/?id=123456789012345&timestamp=1504763810&lat=40.7232948571&lon=-74.0061408571"
                                "&bearing=7.19889788244&speed=40&ignition=true&rpm=933&fuel=24&batt=87"), NOW)  # fmt: skip
    assert fix.battery == 87 and fix.attributes == {"ignition": "true", "rpm": "933", "fuel": "24"}


def test_location_parameter():
    fix = decode_osmand_query(q("/?id=123456&timestamp=1377177267&location=60.0,30.0"), NOW)
    assert (fix.lat, fix.lon) == (60.0, 30.0)


def test_cell_and_wifi_only_is_an_empty_fix():
    fix = decode_osmand_query(q("/?id=123456&timestamp=1377177267&cell=257,02,16,2224&cell=257,02,16,2223,-90"
                                "&wifi=00-14-22-01-23-45,-80&wifi=00-1C-B3-09-85-15,-70"), NOW)  # fmt: skip
    assert fix.lat is None and problem(fix, NOW) == "empty fix: no position"
    assert fix.attributes["cell"] == ["257,02,16,2224", "257,02,16,2223,-90"]


def test_no_device_id_is_not_a_position():
    with pytest.raises(DecodeError, match="no device id"):
        decode_osmand_query(q("/?timestamp=1377177267&lat=60.0&lon=30.0"), NOW)


def test_json_body_variant():
    body = {"location": {"timestamp": "2021-07-21T08:06:34.444Z",
                         "coords": {"latitude": -6.1148096, "longitude": 106.6837015, "accuracy": 3.8, "speed": 18.67,
                                    "heading": 63, "altitude": 35.7},
                         "is_moving": False, "odometer": 0, "event": "motionchange",
                         "battery": {"is_charging": False, "level": 0.79}, "extras": {"trip": "x"}},
            "device_id": "8737767034"}  # fmt: skip
    fix = decode_osmand_json(body, NOW)
    assert fix.device_id == "8737767034" and fix.fix_time == datetime(2021, 7, 21, 8, 6, 34, 444000, tzinfo=UTC)
    assert fix.speed_kmh == pytest.approx(67.212) and fix.course == 63 and fix.battery == pytest.approx(79)
    assert fix.attributes["event"] == "motionchange" and fix.attributes["trip"] == "x" and not fix.mock


def test_json_unknowns_and_mock():
    body = {"location": {"timestamp": "2021-07-21T08:06:34Z", "mock": True,
                         "coords": {"latitude": 13.0, "longitude": 101.0, "speed": -1, "heading": -1},
                         "battery": {"level": -1}}, "device_id": "d"}  # fmt: skip
    fix = decode_osmand_json(body, NOW)
    assert fix.speed_kmh is None and fix.course is None and fix.battery is None and fix.mock


@pytest.mark.parametrize(("lat", "lon", "when", "reason"), [
    (91.0, 100.0, NOW, "out of range"),
    (13.0, 181.0, NOW, "out of range"),
    (0.0, 0.0, NOW, "0,0"),
    (float("nan"), 100.0, NOW, "invalid coordinates"),
    (13.0, 100.0, datetime(2026, 11, 28, 12, 6, tzinfo=UTC), "future"),
])  # fmt: skip
def test_filter_rules(lat, lon, when, reason):
    fix = decode_osmand_query({"id": ["d"], "lat": [str(lat)], "lon": [str(lon)], "timestamp": [when.isoformat()]}, NOW)
    assert reason in problem(fix, NOW)


def test_four_minutes_ahead_is_accepted():
    fix = decode_osmand_query({"id": ["d"], "lat": ["13"], "lon": ["100"], "timestamp": ["2026-11-28T12:04:00Z"]}, NOW)
    assert problem(fix, NOW) is None


@given(st.dictionaries(st.sampled_from(["id", "deviceid", "lat", "lon", "timestamp", "speed", "location", "batt", "x"]),
                       st.lists(st.text(max_size=30), min_size=1, max_size=2)))  # fmt: skip
def test_query_decoder_only_ever_raises_decode_error(params):
    try:
        fix = decode_osmand_query(params, NOW)
    except DecodeError:
        return
    problem(fix, NOW)  # never raises either
