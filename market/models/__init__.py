"""Catalogue models, split by role: reference data, published tables, participants."""

from market.models.apikeys import ApiKey as ApiKey
from market.models.catalogue import (
    CHIP_METRICS,
    ChipModel,
    Hub,
    NetworkLink,
    Region,
    SoftwareStack,
    WorkloadProfile,
)
from market.models.operators import AuditEntry, Proposal
from market.models.participants import Cluster, Participant
from market.models.tables import (
    BenchmarkFactor,
    ConversionFactor,
    ConversionTable,
    Surcharge,
    SurchargeTable,
)

__all__ = [
    "CHIP_METRICS",
    "AuditEntry",
    "BenchmarkFactor",
    "ChipModel",
    "Cluster",
    "ConversionFactor",
    "ConversionTable",
    "Hub",
    "NetworkLink",
    "Participant",
    "Proposal",
    "Region",
    "SoftwareStack",
    "Surcharge",
    "SurchargeTable",
    "WorkloadProfile",
]
