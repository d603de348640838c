"""Navigation by role: each role sees the pages its work needs."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wastelink.accounts.access import role_of
from wastelink.core.roles import Role

OFFICIALS = {Role.ESTATE_OFFICER, Role.HQ_OFFICER, Role.REGULATOR, Role.ADMIN}
FLEET = {Role.TRANSPORTER_DISPATCHER, Role.TRANSPORTER_DRIVER}


def _nav_item(label, target, current: str) -> dict:
    """A link, or a group of links (a list) shown as one menu; a group is active when one of its links is."""
    if isinstance(target, list) and len(target) == 1:
        label, target = target[0]
    if isinstance(target, list):
        children = [_nav_item(lbl, url, current) for lbl, url in target]
        return {"label": label, "url": "", "children": children, "active": any(c["active"] for c in children)}
    active = current == target or (target != "/" and current.startswith(target))
    return {"label": label, "url": target, "active": active}


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    role = role_of(user)
    # Four groups after Home (one line of navigation, whatever the role); a group of one is a plain link.
    permits = []
    if role in (Role.GENERATOR_PREPARER, Role.GENERATOR_CERTIFIER):
        permits += [(_("Waste streams"), reverse("streams")), (_("Applications"), reverse("applications"))]
    if role in OFFICIALS:
        permits += [(_("Review queue"), reverse("review_queue")), (_("Applications"), reverse("applications"))]
    permits.append((_("All permits"), reverse("permits")))
    manifests = [(_("All manifests"), reverse("manifests"))]
    if role in OFFICIALS:
        manifests += [(_("Oversight"), reverse("manifests_overdue")), (_("Mass balance"), reverse("mass_balance"))]
    if role in (Role.RECEIVER_OPERATOR, Role.RECEIVER_CERTIFIER):
        manifests.append((_("Gate"), reverse("gate")))
    tracking = [(_("Live map"), reverse("live_map"))]
    if role in OFFICIALS or role in FLEET:
        tracking.append((_("Vehicles"), reverse("vehicle_status")))
    tracking.append((_("Alerts"), reverse("alert_queue")))
    if role in OFFICIALS:
        tracking.append((_("Alert dashboard"), reverse("alert_dashboard")))
    registry = [(_("Estates map"), reverse("estates_map")), (_("Establishments"), reverse("establishments")),
                (_("Waste codes"), reverse("waste_codes"))]  # fmt: skip
    if role in (Role.HQ_OFFICER, Role.REGULATOR, Role.ADMIN):
        registry.append((_("Audit trail"), reverse("audit_log")))
    items = [(_("Home"), reverse("home")), (_("Permits"), permits), (_("Manifests"), manifests),
             (_("Tracking"), tracking), (_("Registry"), registry)]  # fmt: skip
    if role == Role.ADMIN:
        items.append((_("Administration"), reverse("admin:index")))
    current = request.path
    from wastelink.accounts.models import Notification

    return {
        "unread_notifications": Notification.objects.filter(user=user, read_at=None).count(),
        "nav": [_nav_item(label, target, current) for label, target in items],
        "user_role": role.value if role else "",
    }
