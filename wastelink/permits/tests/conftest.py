"""Permit fixtures on top of the shared world: a licensed receiver, a hazardous-approved transporter with GPS
vehicles, declared streams (one hazardous, one not) and helpers to build applications through the services."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from wastelink.permits.models import AutoApprovalRule, WasteStream
from wastelink.permits.schemas import ApplicationIn, LineIn
from wastelink.permits.services import applications as apps
from wastelink.registry.models import (
    FactoryType,
    ManagementMethod,
    ReceiverLicence,
    TransporterLicence,
    Vehicle,
    WasteCode,
)

HAZARDOUS = "160211"  # HM in Thailand
NON_HAZARDOUS = "200101"  # paper and cardboard


@pytest.fixture
def permit_world(world):
    today = timezone.localdate()
    world.receiver.factory_type = FactoryType.objects.get(number="106")
    world.receiver.save()
    lic = ReceiverLicence.objects.create(receiver=world.receiver, licence_no="RL-1", factory_type_id="106",
                                         annual_capacity_t=Decimal("1000"), valid_from=today - timedelta(days=30),
                                         valid_until=today + timedelta(days=700))  # fmt: skip
    lic.waste_codes.set(WasteCode.objects.filter(code__in=[HAZARDOUS, NON_HAZARDOUS]))
    lic.methods.set(ManagementMethod.objects.filter(code__in=["041", "082", "011"]))
    TransporterLicence.objects.create(transporter=world.transporter, licence_no="TL-1", hazardous_approved=True,
                                      valid_from=date(2020, 1, 1), valid_until=today + timedelta(days=700))  # fmt: skip
    Vehicle.objects.create(transporter=world.transporter, plate="701234", province="ระยอง", kind="truck_10w",
                           capacity_kg=15000, gps_device_id="dev-1", hazardous_approved=True)  # fmt: skip
    world.stream_hz = WasteStream.objects.create(generator=world.gen_a, waste_code_id=HAZARDOUS, name="แผงวงจรเสีย",
                                                 source_process="assembly", physical_form="solid",
                                                 annual_quantity_t=Decimal("100"))  # fmt: skip
    world.stream_nh = WasteStream.objects.create(generator=world.gen_a, waste_code_id=NON_HAZARDOUS, name="กระดาษ",
                                                 source_process="office", physical_form="solid",
                                                 annual_quantity_t=Decimal("50"))  # fmt: skip
    return world


def draft(world, *lines, user="gen_a"):
    """A draft application of gen_a with the given lines: (stream, quantity, method[, transporters])."""
    actor = world.users[user]
    app = apps.create_application(actor=actor, data=ApplicationIn(note="test"))
    for spec in lines:
        stream, qty, method, *rest = spec
        transporters = rest[0] if rest else [world.transporter.id]
        apps.add_line(actor=actor, application_id=app.id, data=LineIn(
            stream_id=stream.id, quantity_t=Decimal(qty), method=method, receiver_id=world.receiver.id,
            transporter_ids=transporters))  # fmt: skip
    return app


def auto_rule(code=NON_HAZARDOUS, method="082", receiver_type="106"):
    return AutoApprovalRule.objects.create(waste_code_id=code, method_id=method, receiver_type_id=receiver_type)
