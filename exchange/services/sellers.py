"""What a sell carries into the book: its cluster's verified attributes (only a
verified cluster sells) and its provider's reliability score, both as they stand
when the sell gets its place, at placement or when an amend loses priority. Read in
the round trip that locks the sells' clusters (after the instrument's lock), so an
operator's check or a settled trade is seen by the next placement."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.db import Read, reads_together
from exchange import codec, engine
from exchange.exceptions import ClusterNotVerified
from exchange.models import Order
from market.persistence import clusters_verified_read
from settlement import interface as settlement


def reads(cluster_ids: set[int], participant_ids: set[int]) -> dict[str, Read]:
    """The reads `Sellers` is made of, to send after the clusters' lock."""
    if not cluster_ids:
        return {}
    return {
        "verified": clusters_verified_read(cluster_ids),
        "reliability": settlement.reliability_reads(participant_ids),
    }


@dataclass
class Sellers:
    """The sells' clusters' verification and their providers' scores, as read."""

    verified: dict[int, tuple[bool, bool, str]] = field(default_factory=dict)
    reliability: dict[int, Decimal] = field(default_factory=dict)

    @classmethod
    def from_reads(cls, answers: Mapping[str, Any]) -> "Sellers":
        return cls(answers.get("verified", {}), answers.get("reliability", {}))

    @classmethod
    def read(cls, order: Order) -> "Sellers":
        """Read for one sell (caller holds its cluster's lock)."""
        return cls.from_reads(
            reads_together(reads({order.cluster_id}, {order.participant_id}))
        )

    def stamp(self, order: Order) -> None:
        """Give the sell its cluster's verified attributes and its provider's
        score; ClusterNotVerified unless an operator has verified the cluster."""
        verified, confidential, certifications = self.verified.get(
            order.cluster_id, (False, False, "")
        )
        if not verified:
            raise ClusterNotVerified(
                f"Cluster {order.cluster.name} is awaiting an operator's check of "
                "its region, chips and count: it cannot sell yet."
            )
        order.confidential = confidential
        order.certifications = certifications
        order.reliability = self.reliability[order.participant_id]


def attributes(order: Order) -> engine.Attributes:
    """A stamped sell's attributes for the engine (its chip from its cluster)."""
    chip = order.cluster.chip
    return codec.attributes_engine(
        chip.code,
        chip.vendor,
        chip.memory_gb,
        order.confidential,
        order.certifications,
        order.reliability,
    )
