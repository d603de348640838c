"""Small helpers shared by the permit services: errors, numbering, notifications."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from wastelink.accounts.models import Notification, User
from wastelink.core.findings import Conflict, DomainError, NotFound, error
from wastelink.core.permit_states import TransitionRefused
from wastelink.core.thai_dates import be_year
from wastelink.permits.models import Counter


def not_found(what_en: str, what_th: str, field: str) -> NotFound:
    return NotFound(error(f"{field}.not_found", field, f"no such {what_en}", f"ไม่พบ{what_th}"))


def bad(rule: str, field: str, en: str, th: str) -> DomainError:
    return DomainError(error(rule, field, en, th))


def refused(exc: TransitionRefused) -> Conflict:
    return Conflict(error("state.transition", "state", str(exc),
                          f"ทำรายการ '{exc.action}' ไม่ได้ในสถานะ {exc.state}"))  # fmt: skip


def stale() -> Conflict:
    return Conflict(error("state.stale", "state", "someone else changed this record first; reload and try again",
                          "มีผู้อื่นแก้ไขรายการนี้ก่อน กรุณาโหลดใหม่แล้วลองอีกครั้ง"))  # fmt: skip


def next_number(series: str) -> str:
    """'KO1-2569-000042': series, Buddhist Era year, running number. Allocated by a conditional UPDATE."""
    year = be_year(timezone.localdate().year)
    with transaction.atomic():
        try:
            with transaction.atomic():
                Counter.objects.get_or_create(series=series, year=year)
        except IntegrityError:
            pass  # created at the same moment by another request
        Counter.objects.filter(series=series, year=year).update(last=F("last") + 1)
        last = Counter.objects.get(series=series, year=year).last
    return f"{series}-{year}-{last:06d}"


def notify(users, *, title_en: str, title_th: str, url: str = "") -> None:
    """In-app notice and an email (through the configured mail backend) to each user."""
    users = [u for u in users if u is not None]
    Notification.objects.bulk_create(
        [Notification(user=u, title_en=title_en[:255], title_th=title_th[:255], url=url) for u in users]
    )
    for u in users:
        if u.email:
            body = f"{title_th}\n{title_en}\n\n{settings.SITE_URL}{url}"
            transaction.on_commit(lambda u=u, body=body: send_mail(
                f"[wastelink] {title_en}", body, settings.DEFAULT_FROM_EMAIL, [u.email], fail_silently=True))  # fmt: skip


def generator_users(generator_id: int):
    return User.objects.filter(organisation__establishment_id=generator_id, is_active=True)


def establishment_users(ids):
    return User.objects.filter(organisation__establishment_id__in=list(ids), is_active=True)


def reviewers_for(application) -> list[User]:
    """The officers an application is routed to."""
    if application.route == "regulator":
        return list(User.objects.filter(role="regulator", is_active=True))
    return list(User.objects.filter(role="estate_officer", organisation__estates=application.estate_id,
                                    is_active=True).distinct())  # fmt: skip
