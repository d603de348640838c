"""The pipeline's write of a batch (on PostgreSQL: binary COPY into a temporary staging table, then one
INSERT … SELECT … ON CONFLICT DO NOTHING): values stored as given, repeats of the natural key, several batches in
one transaction, a rolled-back batch, a batch larger than the statements' chunks."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from wastelink.core.telemetry import Fix
from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture
from wastelink.tracking.models import Position
from wastelink.tracking.services import ingest as pipeline

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 1, 2, 3, 456789, tzinfo=UTC)


def fix(seconds: float, **over) -> Fix:
    data = {"device_id": "dev-1", "fix_time": T0 + timedelta(seconds=seconds), "lat": 12.7, "lon": 101.15}
    data.update(over)
    return Fix(**data)


def statuses(fixes: list[Fix]) -> list[str]:
    return [r.status for r in pipeline.ingest(fixes, now=T0 + timedelta(hours=1))]


def stage_rows() -> int | None:
    """Rows left in this session's staging table (PostgreSQL), None where there is none."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('pg_temp.wastelink_position_stage') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute("SELECT count(*) FROM pg_temp.wastelink_position_stage")
        return cur.fetchone()[0]


def test_every_value_is_stored_as_given(permit_world):  # noqa: F811
    full = fix(0, lat=12.712345678901234, lon=101.15432109876543, speed_kmh=47.25, course=359.9, altitude=-3.5,
               accuracy=4.0, battery=87.5, mock=True, attributes={"charge": True, "note": "ทดสอบ \"q\" \\ ✓",
                                                                   "nested": {"a": [1, 2.5, None]}})  # fmt: skip
    bare = fix(1)
    assert statuses([full, bare]) == ["accepted", "accepted"]
    a, b = Position.objects.order_by("fix_time")
    assert a.fix_time == T0 and b.fix_time == T0 + timedelta(seconds=1)  # microseconds kept
    assert (a.lat, a.lon, a.speed_kmh, a.course, a.altitude, a.accuracy, a.battery, a.mock) == (
        full.lat, full.lon, 47.25, 359.9, -3.5, 4.0, 87.5, True)  # fmt: skip
    assert a.attributes == full.attributes
    assert a.received_at == T0 + timedelta(hours=1)
    assert (b.speed_kmh, b.course, b.altitude, b.accuracy, b.battery, b.mock, b.attributes) == (
        None, None, None, None, None, False, {})  # fmt: skip
    assert a.trip_id is None and a.in_corridor is None
    assert stage_rows() in (None, 0)


def test_repeats_in_the_batch_and_of_stored_points_are_duplicates(permit_world):  # noqa: F811
    assert statuses([fix(0), fix(1), fix(0)]) == ["accepted", "accepted", "duplicate"]
    assert statuses([fix(1, lat=13.0), fix(2)]) == ["duplicate", "accepted"]
    assert Position.objects.get(fix_time=T0 + timedelta(seconds=1)).lat == 12.7  # the repeat changed nothing
    assert Position.objects.count() == 3


def test_a_point_stored_by_another_writer_is_left_as_it_is_and_answered_duplicate(permit_world):  # noqa: F811
    """Written by another process (not through this pipeline): the conflict is ignored (the stored row is kept,
    unchanged), the point answered `duplicate`, and the rest of the batch is written."""
    Position.objects.create(device_id="dev-1", fix_time=T0, received_at=T0, lat=1.0, lon=2.0)
    assert statuses([fix(1), fix(0), fix(2)]) == ["accepted", "duplicate", "accepted"]
    assert Position.objects.get(fix_time=T0).lat == 1.0
    assert (
        Position.objects.filter(fix_time__in=[T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]).count()
        == 2
    )
    assert stage_rows() in (None, 0)


def test_batches_in_one_transaction_do_not_write_each_others_rows(permit_world):  # noqa: F811
    with transaction.atomic():
        assert statuses([fix(0)]) == ["accepted"]
        Position.objects.all().delete()  # a row of the first batch must not come back with the second
        assert statuses([fix(1)]) == ["accepted"]
        assert stage_rows() in (None, 0)
    assert list(Position.objects.values_list("fix_time", flat=True)) == [T0 + timedelta(seconds=1)]


def test_a_rolled_back_batch_leaves_the_next_one_working(permit_world):  # noqa: F811
    if connection.vendor == "postgresql":  # so that the batch below creates the staging table, and loses it
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS pg_temp.wastelink_position_stage")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert statuses([fix(0)]) == ["accepted"]
        raise RuntimeError("the caller's transaction fails after the batch")
    assert stage_rows() is None
    assert statuses([fix(1), fix(0)]) == ["accepted", "accepted"]  # fix(0) was never stored
    assert Position.objects.count() == 2


def test_a_batch_larger_than_a_statement_chunk(permit_world):  # noqa: F811
    n = 10 * pipeline.CHUNK + 500
    # A tenth of a second apart, so that every fix time is within the hour before `now`.
    result = statuses([fix(i / 10) for i in range(n)] + [fix(0.7)])
    assert result == ["accepted"] * n + ["duplicate"]
    assert Position.objects.count() == n
    assert statuses([fix((n - 1) / 10), fix(n / 10)]) == ["duplicate", "accepted"]


def test_extra_fields_are_stored_as_given_point_after_point(permit_world):  # noqa: F811
    """The text of repeated extra fields is reused; values that compare equal but differ (1, 1.0, True; "1")
    must not share it."""
    extras = [{"charge": "true"}, {"charge": "false"}, {"charge": "true"}, {"n": 1}, {"n": True}, {"n": 1.0},
              {"n": "1"}, {}, {"n": [1]}]  # fmt: skip
    assert set(statuses([fix(k, attributes=a) for k, a in enumerate(extras)])) == {"accepted"}
    stored = list(Position.objects.order_by("fix_time").values_list("attributes", flat=True))
    assert stored == extras
    assert [type(a.get("n")) for a in stored[3:7]] == [int, bool, float, str]
