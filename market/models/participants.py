"""The people of the market: participants (buyers, providers, the network operator) and
providers' clusters (the capacity that sell orders commit), with what a cluster
declares and what an operator has verified of it."""

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
    # Participants an operator found to be one legal entity share this handle: their
    # trades with each other leave the reliability score out, and they have one
    # score. Blank: the participant is an entity of its own.
    legal_entity = models.SlugField(
        _("legal entity"),
        max_length=64,
        blank=True,
        help_text=_(
            "Public handle of the legal entity, set by an operator; participants "
            "sharing it are affiliated and share one reliability score."
        ),
    )
    # Industry operators are scoped to the participants of one industry.
    industry = models.SlugField(
        _("industry"),
        max_length=32,
        blank=True,
        db_index=True,
        help_text=_(
            "Industry code (e.g. a GB/T 4754 section: I for information technology, "
            "J for finance), set by an operator."
        ),
    )
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

    @property
    def entity(self) -> str:
        """The legal entity's handle: the one set by an operator, else the
        participant's own (`p<id>`)."""
        return self.legal_entity or f"p{self.pk}"


class Certification(models.TextChoices):
    """Certifications a cluster may declare and an operator verify."""

    MLPS2 = "MLPS2", _("MLPS level 2")
    MLPS3 = "MLPS3", _("MLPS level 3")
    MLPS4 = "MLPS4", _("MLPS level 4")
    ISO27001 = "ISO27001", _("ISO/IEC 27001")
    ISO27017 = "ISO27017", _("ISO/IEC 27017")
    ISO27701 = "ISO27701", _("ISO/IEC 27701")
    SOC2 = "SOC2", _("SOC 2 Type II")
    TRUSTED_CLOUD = "TRUSTED-CLOUD", _("Trusted Cloud")


def certifications_text(codes) -> str:
    """Certification codes as a cluster stores them: sorted, comma-separated."""
    return ",".join(sorted(set(codes)))


def certifications_list(text: str) -> list[str]:
    return [code for code in text.split(",") if code]


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
    # Declared by the provider: a trusted execution environment (NVIDIA
    # confidential computing, Hygon CSV, Intel TDX, Ascend TEE) and certifications.
    confidential = models.BooleanField(_("confidential computing (TEE)"), default=False)
    certifications = models.CharField(_("certifications"), max_length=200, blank=True)
    declared_at = models.DateTimeField(_("declared at"), null=True, blank=True)
    # Checked by an operator (region, chip and count, and these attributes): what
    # sells carry. A changed declaration waits for the next check meanwhile.
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_confidential = models.BooleanField(
        _("verified confidential computing"), default=False
    )
    verified_certifications = models.CharField(
        _("verified certifications"), max_length=200, blank=True
    )
    # The count as checked: a provider's raise of `count` sells only once checked.
    verified_count = models.PositiveIntegerField(
        _("verified chip count"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["participant", "name"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        permissions = [
            ("resize_cluster", "Can resize a cluster"),
            ("verify_cluster", "Can verify a cluster and its attributes"),
        ]
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

    @property
    def verified(self) -> bool:
        """An operator checked its region, chip and count: it may sell."""
        return self.verified_at is not None

    @property
    def sellable_count(self) -> int:
        """The chips its sells may commit: the count, never more than was checked
        (a lowered count applies at once, a raised one once an operator checks it)."""
        if self.verified_count is None:
            return self.count
        return min(self.count, self.verified_count)

    @property
    def certification_codes(self) -> list[str]:
        return certifications_list(self.certifications)

    @property
    def verified_certification_codes(self) -> list[str]:
        return certifications_list(self.verified_certifications)

    @property
    def awaiting_check(self) -> bool:
        """Not verified yet, or declared again since an operator last checked."""
        if self.verified_at is None:
            return True
        return self.declared_at is not None and self.declared_at > self.verified_at
