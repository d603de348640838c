"""Waste-stream declarations."""

from __future__ import annotations

from django.db import transaction

from wastelink.accounts.access import own_establishment_id, require
from wastelink.audit import services as audit
from wastelink.permits.access import can_edit_for_generator, visible_streams
from wastelink.permits.models import WasteStream
from wastelink.permits.schemas import StreamIn, StreamPatch
from wastelink.registry.models import Establishment, WasteCode

from .common import bad, not_found


@transaction.atomic
def declare_stream(*, actor, data: StreamIn, generator_id: int | None = None) -> WasteStream:
    generator_id = generator_id or own_establishment_id(actor)
    require(generator_id is not None and can_edit_for_generator(actor, generator_id), "generator",
            "this factory's waste streams", "รายการของเสียของโรงงานนี้")  # fmt: skip
    generator = Establishment.objects.get(id=generator_id)
    if not generator.is_generator:
        raise bad("stream.not_generator", "generator", "only a generator declares waste streams",
                  "เฉพาะผู้ก่อกำเนิดที่แจ้งรายการของเสียได้")  # fmt: skip
    code = WasteCode.objects.filter(code=data.waste_code, level="entry").first()
    if code is None:
        raise bad("waste_code.unknown", "waste_code", f"unknown waste code {data.waste_code}",
                  f"ไม่รู้จักรหัสของเสีย {data.waste_code}")  # fmt: skip
    stream = WasteStream.objects.create(
        generator=generator, waste_code=code, name=data.name, source_process=data.source_process,
        physical_form=data.physical_form, annual_quantity_t=data.annual_quantity_t,
    )  # fmt: skip
    audit.record(actor=actor, action="stream.declare", obj=stream, after=audit.snapshot(stream))
    return stream


def get_stream(*, actor, stream_id: int) -> WasteStream:
    stream = visible_streams(actor).filter(id=stream_id).first()
    if stream is None:
        raise not_found("waste stream", "รายการของเสีย", "stream_id")
    return stream


@transaction.atomic
def update_stream(*, actor, stream_id: int, patch: StreamPatch) -> WasteStream:
    stream = get_stream(actor=actor, stream_id=stream_id)
    require(can_edit_for_generator(actor, stream.generator_id), "stream_id", "this waste stream", "รายการของเสียนี้")
    stream = WasteStream.objects.select_for_update().get(id=stream.id)
    before = audit.snapshot(stream)
    for name, value in patch.model_dump(exclude_unset=True).items():
        if value is None:
            raise bad("field.required", name, "may not be empty", "ต้องไม่เว้นว่าง")
        setattr(stream, name, value)
    stream.save()
    audit.record(actor=actor, action="stream.update", obj=stream, before=before, after=audit.snapshot(stream))
    return stream
