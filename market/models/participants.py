"""The people of the market: participants (buyers, providers, the network operator) and
providers' clusters (the capacity that sell orders commit)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from market.models.catalogue import ChipModel, Region


class Participant(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="participant"
    )
    display_name = models.CharField(_("display name"), max_length=100)
    is_buyer = models.BooleanField(_("buyer"), default=False)
    is_seller = models.BooleanField(_("seller"), default=False)
    home_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="participants"
    )
    # The one party that receives network surcharges (运力费).
    is_network_operator = models.BooleanField(_("network operator"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        # Login, roles and the network-operator flag are read-only in the change
        # form: they move a participant's money or rights, so each has an action.
        permissions = [
            ("set_participant_roles", "Can grant and revoke buyer and seller roles"),
            ("set_network_operator", "Can flag the network operator"),
            ("reassign_participant_login", "Can move a participant to another login"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["is_network_operator"],
                condition=Q(is_network_operator=True),
                name="participant_one_network_operator",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def roles(self) -> list[str]:
        return [
            r for r, on in (("buyer", self.is_buyer), ("seller", self.is_seller)) if on
        ]


class Cluster(models.Model):
    """A provider's capacity: `count` chips of one model in one region.

    Its capacity in SCU-h over a window is count x hours x the chip's factor for the
    profile in the conversion table the instrument uses.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="clusters"
    )
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="clusters"
    )
    chip = models.ForeignKey(
        ChipModel, on_delete=models.PROTECT, related_name="clusters"
    )
    count = models.PositiveIntegerField(
        _("chip count"), validators=[MinValueValidator(1)]
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["participant", "name"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        permissions = [("resize_cluster", "Can resize a cluster")]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "name"], name="cluster_unique_name"
            ),
            models.CheckConstraint(
                condition=Q(count__gte=1), name="cluster_count_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.count} x {self.chip.code} @ {self.region.code})"

    @property
    def stack(self):
        return self.chip.stack
