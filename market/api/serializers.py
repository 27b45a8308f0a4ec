"""Input and output serializers of the public catalogue endpoints."""

import copy
import functools
from decimal import Decimal
from operator import attrgetter, itemgetter

from rest_framework import serializers

from market.api.fields import EXAMPLE_CHIP, EXAMPLE_PROFILE, CodeField
from market.models import ChipModel, Region, WorkloadProfile


class RegionOutput(serializers.ModelSerializer):
    hub = serializers.CharField(source="hub.code")
    hub_name_en = serializers.CharField(source="hub.name_en")
    hub_name_zh = serializers.CharField(source="hub.name_zh")
    suspended = serializers.BooleanField(
        help_text="An operator has suspended trading here (a power shortage, a "
        "network fault): no sells from its clusters, no buys from it."
    )
    suspended_reason = serializers.CharField(allow_null=True)

    class Meta:
        model = Region
        fields = [
            "code",
            "name_en",
            "name_zh",
            "province",
            "hub",
            "hub_name_en",
            "hub_name_zh",
            "role",
            "lat",
            "lon",
            "electricity_price_cny_per_kwh",
            "carbon_intensity_kg_per_kwh",
            "green_share",
            "pue",
            "residency_zone",
            "unverified_fields",
            "suspended",
            "suspended_reason",
        ]


class ChipOutput(serializers.ModelSerializer):
    stack = serializers.CharField(source="stack.code")

    class Meta:
        model = ChipModel
        fields = [
            "code",
            "vendor",
            "model",
            "kind",
            "architecture",
            "stack",
            "memory_gb",
            "memory_bandwidth_gbs",
            "fp64_tflops",
            "fp32_tflops",
            "tf32_tflops",
            "bf16_tflops",
            "fp16_tflops",
            "int8_tops",
            "tdp_w",
            "release_year",
            "unverified_fields",
        ]


class ProfileOutput(serializers.ModelSerializer):
    reference_chip = serializers.CharField(source="reference_chip.code")
    primary_metrics = serializers.ListField(child=serializers.CharField())
    secondary_weights = serializers.DictField(child=serializers.FloatField())

    class Meta:
        model = WorkloadProfile
        fields = [
            "code",
            "name_en",
            "name_zh",
            "chip_kind",
            "reference_chip",
            "primary_metrics",
            "primary_weight",
            "secondary_weights",
            "data_intensity_gb_per_scu_h",
            "description",
        ]


class ConversionQuery(serializers.Serializer):
    chip = CodeField(example=EXAMPLE_CHIP)
    profile = CodeField(example=EXAMPLE_PROFILE)
    count = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    hours = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("8784"),
        default=Decimal("1"),
    )
    version = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)

    def validate_chip(self, code: str) -> ChipModel:
        chip = ChipModel.objects.select_related("stack").filter(code=code).first()
        if chip is None:
            raise serializers.ValidationError(f"Unknown chip {code!r}.")
        return chip

    def validate_profile(self, code: str) -> WorkloadProfile:
        profile = WorkloadProfile.objects.filter(code=code).first()
        if profile is None:
            raise serializers.ValidationError(f"Unknown profile {code!r}.")
        return profile


class ConversionOutput(serializers.Serializer):
    chip = serializers.CharField()
    profile = serializers.CharField()
    stack = serializers.CharField()
    count = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    factor = serializers.DecimalField(max_digits=12, decimal_places=6)
    estimated = serializers.BooleanField()
    source = serializers.CharField()
    missing_metrics = serializers.ListField(child=serializers.CharField())
    table_version = serializers.IntegerField()
    scu_h = serializers.DecimalField(max_digits=20, decimal_places=6)


class SurchargeQuery(serializers.Serializer):
    profile = CodeField(example=EXAMPLE_PROFILE)
    version = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)

    def validate_profile(self, code: str) -> WorkloadProfile:
        profile = WorkloadProfile.objects.filter(code=code).first()
        if profile is None:
            raise serializers.ValidationError(f"Unknown profile {code!r}.")
        return profile


class SurchargeOutput(serializers.Serializer):
    sell_region = serializers.CharField(source="sell_region.code")
    buy_region = serializers.CharField(source="buy_region.code")
    surcharge = serializers.DecimalField(max_digits=10, decimal_places=2)
    latency_ms = serializers.DecimalField(max_digits=7, decimal_places=2)
    table_version = serializers.IntegerField(source="table.version")


class ShallowFields:
    """A mixin for an input serializer built once per request on a hot path (a
    single order): its plain fields are copied shallowly for each instance.

    DRF deep-copies every declared field for each serializer instance, and a field's
    deep copy runs its `__init__` again (with the regexes and validators that builds),
    a large part of a single order's validation. A plain field is not changed after its
    `__init__` but by `bind`, which sets attributes on the copy, so a copy of its
    attributes serves. A nested serializer, or a field with a child (which its
    `__init__` binds to itself), is deep-copied as DRF does."""

    def get_fields(self):
        return {name: _field_copy(f) for name, f in self._declared_fields.items()}


def _field_copy(field: serializers.Field) -> serializers.Field:
    if isinstance(field, serializers.BaseSerializer) or hasattr(field, "child"):
        return copy.deepcopy(field)
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class BulkOutput:
    """A mixin for an output serializer of objects rendered many at a time (an order
    per order of a 100-order batch): each field's own `to_representation`, without
    DRF's per-field machinery around it (a generator of readable fields, a walk of
    the source with its exception handling: most of the time an order took). For
    fields whose source is a dotted path of attributes (or properties, not methods)
    on an object, or with `bulk_items`, a key of a mapping; a null link on the way
    gives None where the field allows null, as in DRF."""

    bulk_items = False  # instances are mappings: each field reads its source's key

    def to_representation(self, instance):
        out = {}
        for name, get, represent, nullable in self._plan:
            try:
                value = get(instance)
            except (AttributeError, KeyError):
                if not nullable:
                    raise
                value = None
            out[name] = None if value is None else represent(value)
        return out

    @functools.cached_property
    def _plan(self) -> list[tuple]:
        return [
            (
                f.field_name,
                itemgetter(f.source)
                if self.bulk_items
                else attrgetter(".".join(f.source_attrs)),
                f.to_representation,
                f.allow_null,
            )
            for f in self._readable_fields
        ]
