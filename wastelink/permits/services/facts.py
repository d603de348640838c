"""Gathering the pre-check facts of an application in a handful of batched queries (no query per rule)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from wastelink.core.identifiers import registration_number_problem
from wastelink.core.permit_states import PermitState
from wastelink.core.precheck import ApplicationFacts, LicenceFacts, LineFacts, TransporterFacts
from wastelink.permits.models import ApplicationLine, Permit, PermitApplication, PermitLine
from wastelink.registry.models import Establishment, ReceiverLicence, Vehicle

LIVE = [PermitState.ACTIVE.value, PermitState.SUSPENDED.value]


def requested_period(today: date | None = None) -> tuple[date, date]:
    start = today or timezone.localdate()
    return start, start + timedelta(days=settings.WASTELINK["PERMIT_VALIDITY_DAYS"] - 1)


def gather(application: PermitApplication, *, today: date | None = None) -> ApplicationFacts:
    start, end = requested_period(today)
    lines = list(
        ApplicationLine.objects.filter(application=application)
        .select_related("stream", "stream__waste_code", "method", "receiver")
        .prefetch_related("transporters")
        .order_by("index")
    )
    receiver_ids = {ln.receiver_id for ln in lines}
    transporter_ids = {t.id for ln in lines for t in ln.transporters.all()}

    # A licence lists hundreds of codes: read the link rows as plain pairs rather than as model instances.
    licences: dict[int, list[LicenceFacts]] = defaultdict(list)
    receiver_licences = list(ReceiverLicence.objects.filter(receiver_id__in=receiver_ids))
    lic_codes: dict[int, set[str]] = defaultdict(set)
    lic_methods: dict[int, set[str]] = defaultdict(set)
    if receiver_licences:
        lic_ids = [lic.id for lic in receiver_licences]
        for lic_id, code in ReceiverLicence.waste_codes.through.objects.filter(
                receiverlicence_id__in=lic_ids).values_list("receiverlicence_id", "wastecode_id"):  # fmt: skip
            lic_codes[lic_id].add(code)
        for lic_id, method in ReceiverLicence.methods.through.objects.filter(
                receiverlicence_id__in=lic_ids).values_list("receiverlicence_id", "managementmethod_id"):  # fmt: skip
            lic_methods[lic_id].add(method)
    for lic in receiver_licences:
        licences[lic.receiver_id].append(LicenceFacts(
            lic.licence_no, lic.factory_type_id, frozenset(lic_codes[lic.id]), frozenset(lic_methods[lic.id]),
            lic.annual_capacity_t, lic.valid_from, lic.valid_until, lic.suspended))  # fmt: skip

    # Capacity already promised to each receiver this year by live permits (other than this application's).
    # Read through the covering index PermitLine(receiver, permit, approved_quantity_t).
    year_start, year_end = date(start.year, 1, 1), date(start.year, 12, 31)
    used = dict(
        PermitLine.objects.filter(receiver_id__in=receiver_ids, permit__state__in=LIVE,
                                  permit__valid_from__lte=year_end, permit__valid_until__gte=year_start)
        .exclude(permit__application=application)
        .values_list("receiver_id").annotate(t=Sum("approved_quantity_t"))
    )  # fmt: skip

    transporters: dict[int, TransporterFacts] = {}
    if transporter_ids:
        gps = dict(
            Vehicle.objects.filter(transporter_id__in=transporter_ids, active=True, hazardous_approved=True)
            .exclude(gps_device_id=None).exclude(gps_device_id="")
            .values_list("transporter_id").annotate(n=Count("id"))
        )
        hz_ok = set(Establishment.objects.filter(
            id__in=transporter_ids, transporter_licences__hazardous_approved=True,
            transporter_licences__suspended=False, transporter_licences__valid_from__lte=start,
            transporter_licences__valid_until__gte=start).values_list("id", flat=True))  # fmt: skip
        for est in Establishment.objects.filter(id__in=transporter_ids):
            transporters[est.id] = TransporterFacts(est.id, str(est), est.status == "active" and est.is_transporter,
                                                    est.id in hz_ok, gps.get(est.id, 0))  # fmt: skip

    # Live permits overlapping the requested period, for the same (stream, method, receiver) triples. In two
    # steps, each by its own index whatever the database's statistics say: the permit lines ever issued for these
    # triples (a few), then their permits by primary key, state and dates checked here. (Given the state and the
    # dates in SQL, SQLite without statistics starts from the (state, valid_until) index: every live permit.)
    overlaps: dict[tuple[int, str, int], list[str]] = defaultdict(list)
    triples = Q()
    for ln in lines:
        triples |= Q(stream_id=ln.stream_id, method_id=ln.method_id, receiver_id=ln.receiver_id)
    candidates: list[tuple[int, str, int, int]] = []
    if lines:
        candidates = list(
            PermitLine.objects.filter(triples)
            .order_by()
            .values_list("stream_id", "method_id", "receiver_id", "permit_id")
        )
    if candidates:
        permits = Permit.objects.filter(id__in={c[3] for c in candidates}).order_by()
        live = {
            pid: number
            for pid, number, state, valid_from, valid_until, app_id in permits.values_list(
                "id", "number", "state", "valid_from", "valid_until", "application_id"
            )
            if state in LIVE and valid_from <= end and valid_until >= start and app_id != application.id
        }
        for s, m, r, permit_id in candidates:
            if permit_id in live:
                overlaps[(s, m, r)].append(live[permit_id])

    per_stream: dict[int, Decimal] = defaultdict(Decimal)
    per_receiver: dict[int, Decimal] = defaultdict(Decimal)
    for ln in lines:
        per_stream[ln.stream_id] += ln.quantity_t
        per_receiver[ln.receiver_id] += ln.quantity_t

    facts = []
    for ln in lines:
        code = ln.stream.waste_code
        facts.append(LineFacts(
            index=ln.index, stream_id=ln.stream_id, stream_code=code.code,
            stream_annual_t=ln.stream.annual_quantity_t,
            stream_other_requested_t=per_stream[ln.stream_id] - ln.quantity_t,
            mark=code.mark, mark_verified=bool(code.th_mark), quantity_t=ln.quantity_t, method=ln.method_id,
            method_non_hazardous_only=ln.method.non_hazardous_only, receiver_id=ln.receiver_id,
            receiver_active=ln.receiver.status == "active" and ln.receiver.is_receiver,
            receiver_licences=tuple(licences.get(ln.receiver_id, ())),
            receiver_used_t=used.get(ln.receiver_id) or Decimal(0),
            receiver_this_application_t=per_receiver[ln.receiver_id],
            transporters=tuple(transporters[t.id] for t in ln.transporters.all() if t.id in transporters),
            overlapping_permits=tuple(sorted(set(overlaps.get((ln.stream_id, ln.method_id, ln.receiver_id), [])))),
        ))  # fmt: skip
    generator = application.generator
    return ApplicationFacts(
        generator_name=str(generator), registration_problem=registration_number_problem(generator.registration_no),
        generator_status=generator.status, period_start=start, period_end=end, lines=tuple(facts),
    )
