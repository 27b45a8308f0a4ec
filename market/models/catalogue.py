"""The catalogue and the people: hubs, regions, network links, software stacks, chips,
workload profiles, published conversion and surcharge tables, participants, clusters.

Published tables are immutable: the models refuse to update or delete them, and on
PostgreSQL a trigger refuses it too (see migrations), so a figure used by an order can
always be audited later.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class CodeManager(models.Manager):
    """Reference rows are named by `code` everywhere, fixtures included."""

    def get_by_natural_key(self, code: str):
        return self.get(code=code)


class Hub(models.Model):
    """A national hub node (国家枢纽节点), e.g. the Yangtze River Delta."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)

    objects = CodeManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("hub")
        verbose_name_plural = _("hubs")

    def __str__(self) -> str:
        return f"{self.name_en} {self.name_zh}"

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class Region(models.Model):
    class Role(models.TextChoices):
        EAST_DEMAND = "east-demand", _("demand region (east)")
        EAST_SUPPLY = "east-supply", _("data-centre cluster (east)")
        WEST_SUPPLY = "west-supply", _("data-centre cluster (west)")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    province = models.CharField(_("province"), max_length=64, blank=True)
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="regions")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    lon = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    electricity_price_cny_per_kwh = models.DecimalField(
        _("electricity price (CNY/kWh)"), max_digits=8, decimal_places=4
    )
    carbon_intensity_kg_per_kwh = models.DecimalField(
        _("grid carbon intensity (kgCO2/kWh)"), max_digits=6, decimal_places=4
    )
    # Unknown is not zero: a buyer's minimum green share is never met by an unknown.
    green_share = models.DecimalField(
        _("green-power share (0-1)"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    pue = models.DecimalField(
        _("PUE"), max_digits=4, decimal_places=2, validators=[MinValueValidator(1)]
    )
    residency_zone = models.CharField(_("residency zone"), max_length=32)
    source = models.TextField(_("source"), blank=True)
    unverified_fields = models.CharField(
        _("unverified fields"), max_length=255, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = CodeManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        permissions = [("suspend_region", "Can suspend or resume a region")]
        constraints = [
            models.CheckConstraint(
                condition=Q(green_share__isnull=True)
                | Q(green_share__gte=0, green_share__lte=1),
                name="region_green_share_fraction",
            ),
            models.CheckConstraint(
                condition=Q(pue__gte=1), name="region_pue_at_least_1"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class RegionSuspension(models.Model):
    """A region's trading suspended by an operator (a power shortage, a network
    fault), from `started_at` until `ended_at` (open while it lasts). The rows stay:
    settlement finds the overlap of a trade's window with them (force majeure)."""

    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="suspensions",
        verbose_name=_("region"),
    )
    reason = models.CharField(_("reason"), max_length=255)
    started_at = models.DateTimeField(_("suspended at"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("suspended by"),
    )
    ended_at = models.DateTimeField(_("resumed at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resumed by"),
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("region suspension")
        verbose_name_plural = _("region suspensions")
        constraints = [
            # A region is suspended once at a time: resuming closes the open row.
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(ended_at__isnull=True),
                name="region_suspension_one_open",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="region_suspension_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.started_at:%Y-%m-%d %H:%M}"


class NetworkLinkManager(models.Manager):
    def get_by_natural_key(self, from_code: str, to_code: str):
        return self.get(from_region__code=from_code, to_region__code=to_code)


class NetworkLink(models.Model):
    """A one-way link between two regions. A pair with no link cannot trade."""

    from_region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="links_out"
    )
    to_region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="links_in"
    )
    latency_ms = models.DecimalField(
        _("one-way latency (ms)"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
    )
    transfer_cny_per_gb = models.DecimalField(
        _("transfer price (CNY/GB)"),
        max_digits=8,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0))],
    )
    derived = models.BooleanField(
        _("derived default"),
        default=True,
        help_text=_("Set by derive_links; cleared when an operator edits the link."),
    )

    objects = NetworkLinkManager()

    class Meta:
        ordering = ["from_region__code", "to_region__code"]
        verbose_name = _("network link")
        verbose_name_plural = _("network links")
        constraints = [
            models.UniqueConstraint(
                fields=["from_region", "to_region"], name="networklink_unique_pair"
            ),
            models.CheckConstraint(
                condition=~Q(from_region=models.F("to_region")),
                name="networklink_distinct_regions",
            ),
            models.CheckConstraint(
                condition=Q(latency_ms__gte=0, transfer_cny_per_gb__gte=0),
                name="networklink_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_region.code} → {self.to_region.code}"

    def natural_key(self) -> tuple[str, str]:
        return (self.from_region.code, self.to_region.code)

    natural_key.dependencies = ["market.region"]


class SoftwareStack(models.Model):
    """Code is not portable across stacks: a matching constraint, not a price."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    vendor = models.CharField(_("vendor"), max_length=100, blank=True)

    objects = CodeManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("software stack")
        verbose_name_plural = _("software stacks")

    def __str__(self) -> str:
        return self.code

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class ChipModel(models.Model):
    class Kind(models.TextChoices):
        ACCELERATOR = "accelerator", _("accelerator")
        CPU = "cpu", _("server CPU")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    vendor = models.CharField(_("vendor"), max_length=64)
    model = models.CharField(_("model"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    architecture = models.CharField(_("architecture"), max_length=64, blank=True)
    stack = models.ForeignKey(
        SoftwareStack, on_delete=models.PROTECT, related_name="chips"
    )
    memory_gb = models.DecimalField(
        _("memory (GB)"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    memory_bandwidth_gbs = models.DecimalField(
        _("memory bandwidth (GB/s)"),
        max_digits=8,
        decimal_places=1,
        null=True,
        blank=True,
    )
    fp64_tflops = models.DecimalField(
        _("FP64 (TFLOPS)"), max_digits=9, decimal_places=3, null=True, blank=True
    )
    fp32_tflops = models.DecimalField(
        _("FP32 (TFLOPS)"), max_digits=9, decimal_places=3, null=True, blank=True
    )
    tf32_tflops = models.DecimalField(
        _("TF32 dense (TFLOPS)"), max_digits=9, decimal_places=3, null=True, blank=True
    )
    bf16_tflops = models.DecimalField(
        _("BF16 dense (TFLOPS)"), max_digits=9, decimal_places=3, null=True, blank=True
    )
    fp16_tflops = models.DecimalField(
        _("FP16 dense (TFLOPS)"), max_digits=9, decimal_places=3, null=True, blank=True
    )
    int8_tops = models.DecimalField(
        _("INT8 dense (TOPS)"), max_digits=9, decimal_places=3, null=True, blank=True
    )
    tdp_w = models.PositiveIntegerField(_("TDP (W)"), null=True, blank=True)
    release_year = models.PositiveSmallIntegerField(
        _("release year"), null=True, blank=True
    )
    source = models.TextField(_("source"), blank=True)
    unverified_fields = models.CharField(
        _("unverified fields"), max_length=255, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = CodeManager()

    class Meta:
        ordering = ["vendor", "model"]
        verbose_name = _("chip model")
        verbose_name_plural = _("chip models")

    def __str__(self) -> str:
        return f"{self.vendor} {self.model}"

    def natural_key(self) -> tuple[str]:
        return (self.code,)


# The chip metrics a profile may weigh, by field name.
CHIP_METRICS = (
    "memory_gb",
    "memory_bandwidth_gbs",
    "fp64_tflops",
    "fp32_tflops",
    "tf32_tflops",
    "bf16_tflops",
    "fp16_tflops",
    "int8_tops",
)


def validate_weights(value: object) -> None:
    if not isinstance(value, dict) or not value:
        raise ValidationError(
            _("Weights must be a non-empty object of metric: weight.")
        )
    for metric, weight in value.items():
        if metric not in CHIP_METRICS:
            raise ValidationError(_("Unknown metric %(m)s."), params={"m": metric})
        if not isinstance(weight, int | float) or weight <= 0:
            raise ValidationError(
                _("Weight of %(m)s must be > 0."), params={"m": metric}
            )


def validate_primary(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("The primary metric is a non-empty list (fallbacks)."))
    for metric in value:
        if metric not in CHIP_METRICS:
            raise ValidationError(_("Unknown metric %(m)s."), params={"m": metric})


class WorkloadProfile(models.Model):
    """How a workload weighs chip metrics, and how much data it moves per SCU-h.

    `primary_metrics` is the ordered fallback of the one compute metric a chip must
    have (train: BF16, else FP16); its weight is `weights["primary"]`. The other keys
    of `weights` are secondary metrics, left out (and the factor marked estimated)
    when a chip lacks them.
    """

    code = models.SlugField(_("code"), max_length=16, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=64)
    name_zh = models.CharField(_("name (Chinese)"), max_length=64)
    chip_kind = models.CharField(
        _("chip kind"), max_length=16, choices=ChipModel.Kind.choices
    )
    reference_chip = models.ForeignKey(
        ChipModel, on_delete=models.PROTECT, related_name="reference_for"
    )
    primary_metrics = models.JSONField(_("primary metric and fallbacks"))
    primary_weight = models.DecimalField(
        _("primary weight"), max_digits=5, decimal_places=3
    )
    secondary_weights = models.JSONField(
        _("secondary weights"), default=dict, blank=True
    )
    data_intensity_gb_per_scu_h = models.DecimalField(
        _("data intensity (GB per SCU-h)"),
        max_digits=8,
        decimal_places=3,
        validators=[MinValueValidator(Decimal(0))],
    )
    description = models.TextField(_("description"), blank=True)

    objects = CodeManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("workload profile")
        verbose_name_plural = _("workload profiles")

    def __str__(self) -> str:
        return self.code

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    def clean(self) -> None:
        validate_primary(self.primary_metrics)
        if self.secondary_weights:
            validate_weights(self.secondary_weights)
        if self.primary_weight is not None and self.primary_weight <= 0:
            raise ValidationError({"primary_weight": _("Must be > 0.")})
