"""A returned load is received back by its generator; a reported code B is a discrepancy even at the right weight."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from wastelink.core.findings import NotFound
from wastelink.manifests.schemas import ReceiveIn, RerouteIn
from wastelink.manifests.services import corrections, custody
from wastelink.manifests.services.document import document_hash

from .conftest import manifest_world, new_manifest, receive, to_delivered  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_returned_load_is_received_and_completed_by_the_generator(manifest_world):  # noqa: F811
    w = manifest_world
    m = new_manifest(w, "5")
    to_delivered(w, m)
    receive(w, m, "5000", acceptance="rejected", discrepancy_code="C", discrepancy_reason="ภาชนะรั่ว")
    now = timezone.now()
    child = corrections.reroute(actor=w.users["gen_a"], number=m.number, data=RerouteIn(
        relation="return", vehicle_id=w.vehicle.id, quantity_kg=Decimal("5000"),
        planned_pickup_at=now + timedelta(hours=1), expected_arrival_at=now + timedelta(hours=3)))  # fmt: skip
    assert child.receiver_id == w.gen_a.id and child.parent_id == m.id
    to_delivered(w, child)
    child.refresh_from_db()
    data = ReceiveIn(document_sha256=document_hash(child), weighed_quantity=Decimal("4990"), unit="kg", acceptance="full")
    with pytest.raises(NotFound):  # the original receiver no longer sees a load returned to its generator
        custody.receive(actor=w.users["receiver_cert"], number=child.number, data=data)
    got, _ = custody.receive(actor=w.users["gen_a_cert"], number=child.number, data=data)
    assert got.state == "RECEIVED"
    from wastelink.manifests.schemas import CompleteIn

    done = custody.complete(actor=w.users["gen_a"], number=child.number,
                            data=CompleteIn(final_method="021", treated_on=timezone.localdate()))  # fmt: skip
    assert done.state == "COMPLETED"


def test_code_b_at_the_declared_weight_is_still_a_discrepancy(manifest_world):  # noqa: F811
    w = manifest_world
    m = new_manifest(w, "5")
    to_delivered(w, m)
    got, findings = receive(w, m, "5000", discrepancy_code="B", discrepancy_reason="เป็นตะกอนไม่ใช่แผงวงจร",
                            new_waste_code="190814")  # fmt: skip
    assert got.discrepancy and got.discrepancy_new_code_id == "190814"
    assert [f.rule for f in findings] == ["MF-DISCREPANCY"]
