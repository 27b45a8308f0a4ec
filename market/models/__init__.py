"""Catalogue models, split by role: reference data, published tables, participants."""

from market.models.apikeys import ApiKey as ApiKey
from market.models.catalogue import (
    CHIP_METRICS,
    ChipModel,
    Hub,
    NetworkLink,
    Region,
    RegionSuspension,
    SoftwareStack,
    WorkloadProfile,
)
from market.models.notifications import (
    DeliveryAttempt,
    Notification,
    NotificationCategory,
    NotificationCursor,
    NotificationDelivery,
    NotificationSettings,
)
from market.models.operators import AuditEntry, OperatorScope, Proposal
from market.models.participants import Certification, Cluster, Participant
from market.models.tables import (
    BenchmarkFactor,
    ConversionFactor,
    ConversionTable,
    Surcharge,
    SurchargeTable,
)
from market.models.tariffs import TariffPeriod

__all__ = [
    "CHIP_METRICS",
    "AuditEntry",
    "BenchmarkFactor",
    "Certification",
    "ChipModel",
    "Cluster",
    "ConversionFactor",
    "ConversionTable",
    "DeliveryAttempt",
    "Hub",
    "NetworkLink",
    "Notification",
    "NotificationCategory",
    "NotificationCursor",
    "NotificationDelivery",
    "NotificationSettings",
    "OperatorScope",
    "Participant",
    "Proposal",
    "Region",
    "RegionSuspension",
    "SoftwareStack",
    "Surcharge",
    "SurchargeTable",
    "TariffPeriod",
    "WorkloadProfile",
]
