"""Forms of the public catalogue pages. Choices come from rows the view already loaded,
so building a form costs no query; nothing a user types can raise past `is_valid()`."""

from collections.abc import Mapping
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from market.display import local_name
from market.models import (
    ChipModel,
    ConversionFactor,
    ConversionTable,
    Region,
    SoftwareStack,
    WorkloadProfile,
)

MOVE_WEST_DEFAULTS = {
    "origin": "CITY-SH",
    "profile": "train",
    "scu_h": "1000",
    "data_gb": "500",
    "chip": "",
}
MAX_SCU_H = Decimal(1_000_000_000)
MAX_DATA_GB = Decimal(1_000_000_000)


class ChipFilterForm(forms.Form):
    stack = forms.ChoiceField(label=_("Software stack"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *ChipModel.Kind.choices],
    )

    def __init__(self, *args, stacks: list[SoftwareStack], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stack"].choices = [("", _("All stacks"))] + [
            (s.code, s.code) for s in stacks
        ]


class MoveWestForm(forms.Form):
    """A job to place: where its data is, what it runs, how big it is, on which chip.

    `clean()` also checks that the chip has a factor for the profile in `table` and a
    published TDP, since without them no energy can be estimated.
    """

    origin = forms.ChoiceField(label=_("Origin region"))
    profile = forms.ChoiceField(label=_("Workload profile"))
    scu_h = forms.DecimalField(
        label=_("Compute (SCU-h)"),
        min_value=Decimal("0.1"),
        max_value=MAX_SCU_H,
        max_digits=11,
        decimal_places=1,
        # Text, not number: a browser would blank what it cannot parse, and the user
        # should see what they typed next to the message saying what is wrong with it.
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    data_gb = forms.DecimalField(
        label=_("The job's data (GB)"),
        min_value=Decimal(0),
        max_value=MAX_DATA_GB,
        max_digits=13,
        decimal_places=3,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    chip = forms.ChoiceField(label=_("Chip to run on"), required=False)

    def __init__(
        self,
        *args,
        regions: list[Region],
        profiles: list[WorkloadProfile],
        chips: list[ChipModel],
        table: ConversionTable,
        factors: Mapping[tuple[int, int], ConversionFactor],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.regions = {r.code: r for r in regions}
        self.profiles = {p.code: p for p in profiles}
        self.chips = {c.code: c for c in chips}
        self.table, self.factors = table, factors
        self.fields["origin"].choices = [
            (r.code, f"{local_name(r)} ({r.code})") for r in regions
        ]
        self.fields["profile"].choices = [(p.code, local_name(p)) for p in profiles]
        self.fields["chip"].choices = [("", _("The profile's reference chip"))] + [
            (c.code, str(c)) for c in chips
        ]
        for name, bound in self.fields.items():
            bound.widget.attrs["aria-describedby"] = f"err-{self.add_prefix(name)}"

    def clean(self):
        data = super().clean()
        data["origin_region"] = self.regions.get(data.get("origin", ""))
        profile = data["profile_obj"] = self.profiles.get(data.get("profile", ""))
        if profile is None or "chip" not in data:
            return data
        chip = self.chips.get(data["chip"]) or profile.reference_chip
        factor = self.factors.get((chip.pk, profile.pk))
        params = {"chip": chip, "profile": profile.code, "version": self.table.version}
        if factor is None:
            self.add_error(
                "chip",
                _(
                    "%(chip)s has no conversion factor for %(profile)s in conversion "
                    "table v%(version)s."
                )
                % params,
            )
        elif chip.tdp_w is None:
            self.add_error(
                "chip",
                _("%(chip)s has no published TDP, so its energy cannot be estimated.")
                % params,
            )
        data["chip_obj"], data["factor"] = chip, factor
        return data
