from .establishments import (
    Driver,
    Establishment,
    EstablishmentStatus,
    ReceiverLicence,
    TransporterLicence,
    Vehicle,
)
from .estates import Estate
from .reference import FactoryType, ManagementMethod, WasteCode

__all__ = [
    "Driver",
    "Establishment",
    "EstablishmentStatus",
    "Estate",
    "FactoryType",
    "ManagementMethod",
    "ReceiverLicence",
    "TransporterLicence",
    "Vehicle",
    "WasteCode",
]
