"""The canonical manifest document: what a signer is shown, and the SHA-256 their signature covers."""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils import timezone

from wastelink.core.audit_chain import canonical_json
from wastelink.manifests.models import Manifest


def document_of(m: Manifest) -> dict[str, Any]:
    """Every fact a signer vouches for; signatures already given are part of what the next signer sees."""
    return {
        "number": m.number, "version": m.version, "state": m.state,
        "permit": m.permit_line.permit.number, "permit_line": m.permit_line.index,
        "generator": {"id": m.generator_id, "registration_no": m.generator.registration_no, "name": m.generator.name_th},
        "transporter": {"id": m.transporter_id, "name": m.transporter.name_th},
        "vehicle": {"id": m.vehicle_id, "plate": m.vehicle.plate, "province": m.vehicle.province},
        "driver": {"id": m.driver_id, "name": m.driver.name} if m.driver_id else None,
        "receiver": {"id": m.receiver_id, "registration_no": m.receiver.registration_no, "name": m.receiver.name_th},
        "waste_code": m.waste_code_id, "declared_quantity": str(m.declared_quantity), "unit": m.unit,
        "container": {"type": m.container_type, "count": m.container_count}, "physical_form": m.physical_form,
        "planned_pickup_at": timezone.localtime(m.planned_pickup_at).isoformat(),
        "expected_arrival_at": timezone.localtime(m.expected_arrival_at).isoformat(),
        "received_kg": str(m.received_kg) if m.received_kg is not None else None,
        "acceptance": m.acceptance or None,
        "signatures": [{"role": s.role, "signer": s.signer_name, "at": s.signed_at.isoformat(), "sha256": s.document_sha256}
                       for s in m.signatures.order_by("signed_at", "id")],
    }  # fmt: skip


def document_hash(m: Manifest) -> str:
    return hashlib.sha256(canonical_json(document_of(m)).encode()).hexdigest()
