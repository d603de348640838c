"""`wastelink tracking purge [--older-than-days N]`: retention of raw positions.

Positions older than the retention age are deleted; each closed trip first keeps a simplified copy of its track
(GeoJSON LineString, Douglas-Peucker at about 20 m), so replays and evidence outlive the raw points.
"""

from datetime import timedelta

import shapely
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from wastelink.tracking.models import Position, Trip


class Command(BaseCommand):
    help = "Tracking maintenance: purge"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["purge"])
        parser.add_argument("--older-than-days", type=int, default=settings.WASTELINK["TRACKING_RETENTION_DAYS"])

    def handle(self, *args, action, older_than_days, **options):
        cutoff = timezone.now() - timedelta(days=older_than_days)
        kept = 0
        for trip in Trip.objects.filter(state="closed", simplified_track__isnull=True, positions__fix_time__lt=cutoff).distinct():
            coords = list(Position.objects.filter(trip=trip).order_by("fix_time").values_list("lon", "lat"))
            if len(coords) >= 2:
                line = shapely.LineString(coords).simplify(0.0002)  # ≈ 20 m
                trip.simplified_track = shapely.geometry.mapping(line)
                trip.save(update_fields=["simplified_track"])
                kept += 1
        with transaction.atomic():
            deleted, _ = Position.objects.filter(fix_time__lt=cutoff).exclude(trip__state="open").delete()
        self.stdout.write(f"purged {deleted} positions older than {older_than_days} days; {kept} trips keep a simplified track")
