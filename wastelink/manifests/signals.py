"""Events other contexts listen to: the tracking context opens a trip when a load leaves and closes it on arrival."""

from django.dispatch import Signal

manifest_in_transit = Signal()  # kwargs: manifest
manifest_delivered = Signal()  # kwargs: manifest
