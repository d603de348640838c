"""Manifest fixtures: an ACTIVE permit for gen_a (hazardous line to the receiver, carried by the transporter),
a receiver certifier, and helpers to draft and move manifests through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import make_user
from wastelink.core.roles import Role
from wastelink.manifests.schemas import ManifestIn, ReceiveIn, SignIn
from wastelink.manifests.services import custody
from wastelink.manifests.services.document import document_hash
from wastelink.permits.schemas import DecisionIn
from wastelink.permits.services import applications as apps
from wastelink.permits.services import review
from wastelink.permits.tests.conftest import draft, permit_world  # noqa: F401 - fixture re-export
from wastelink.registry.models import Vehicle


@pytest.fixture
def manifest_world(permit_world):  # noqa: F811
    w = permit_world
    w.users["receiver_cert"] = make_user("receiver_cert", Role.RECEIVER_CERTIFIER, w.receiver.organisation)
    app = draft(w, (w.stream_hz, "40", "041"))
    apps.submit(actor=w.users["gen_a"], application_id=app.id)
    review.take(actor=w.users["officer_a"], application_id=app.id)
    review.decide(actor=w.users["officer_a"], application_id=app.id,
                  data=DecisionIn(lines=[{"index": 1, "approve": True, "approved_quantity_t": "30"}]))  # fmt: skip
    app.refresh_from_db()
    w.permit = app.permit
    w.line = app.permit.lines.get()
    w.vehicle = Vehicle.objects.get(gps_device_id="dev-1")
    return w


def manifest_in(w, quantity="5", unit="t", **over):
    now = timezone.now()
    data = {"permit_number": w.permit.number, "permit_line": 1, "vehicle_id": w.vehicle.id,
            "declared_quantity": Decimal(quantity), "unit": unit, "container_type": "drum", "container_count": 20,
            "physical_form": "solid", "planned_pickup_at": now + timedelta(hours=1),
            "expected_arrival_at": now + timedelta(hours=4)}  # fmt: skip
    data.update(over)
    return ManifestIn(**data)


def new_manifest(w, quantity="5", **over):
    return custody.create_manifest(actor=w.users["gen_a"], data=manifest_in(w, quantity, **over))


def sign(m):
    m.refresh_from_db()
    return SignIn(document_sha256=document_hash(m))


def to_delivered(w, m):
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    return custody.deliver(actor=w.users["driver"], number=m.number)


def receive(w, m, kg, acceptance="full", **extra):
    m.refresh_from_db()
    data = ReceiveIn(document_sha256=document_hash(m), weighed_quantity=Decimal(kg), unit="kg", acceptance=acceptance,
                     **extra)  # fmt: skip
    return custody.receive(actor=w.users["receiver_cert"], number=m.number, data=data)
