"""Forms of the account pages: sign-up, settings, API keys and clusters. They check
everything a user can get wrong before a service runs, so the message sits beside the
field, in the user's language."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market.display import local_name
from market.models import Certification, ChipModel, Participant, Region

MAX_CHIPS = 1_000_000
ROLE_CHOICES = [
    ("buyer", _("Buyer: I buy compute")),
    ("seller", _("Provider: I sell compute from my clusters")),
    ("both", _("Both")),
]


class DescribedFields:
    """Point every input at its error box (`err-<name>`), for screen readers and
    for the htmx out-of-band error swaps."""

    def describe_fields(self) -> None:
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            field.widget.attrs["aria-describedby"] = f"err-{self.add_prefix(name)}"  # type: ignore[attr-defined]


def text_decimal(**attrs) -> forms.TextInput:
    """Numbers as text: a browser blanks a number input it cannot parse, and the user
    should see what they typed beside the message saying what is wrong."""
    return forms.TextInput(
        attrs={"inputmode": "decimal", "autocomplete": "off", **attrs}
    )


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{local_name(obj)} ({obj.code})"


def region_field(label, **kwargs) -> RegionChoiceField:
    return RegionChoiceField(
        label=label,
        queryset=Region.objects.order_by("code"),
        to_field_name="code",
        **kwargs,
    )


class SignUpForm(DescribedFields, UserCreationForm):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=100,
        help_text=_("Shown to operators, e.g. your company."),
    )
    role = forms.ChoiceField(
        label=_("I am a"), choices=ROLE_CHOICES, widget=forms.RadioSelect
    )
    home_region = region_field(
        _("Home region"),
        help_text=_("Where your data and users are: buy orders start from here."),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")
        labels = {"email": _("E-mail (optional)")}
        help_texts = {
            "email": _("Only to send you a link if you forget your password.")
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["home_region"].initial = "CITY-SH"
        self.describe_fields()

    @property
    def roles(self) -> tuple[bool, bool]:
        role = self.cleaned_data["role"]
        return role in ("buyer", "both"), role in ("seller", "both")


class SettingsForm(DescribedFields, forms.ModelForm):
    home_region = region_field(_("Home region"))

    class Meta:
        model = Participant
        fields = ("display_name", "home_region", "is_buyer", "is_seller")
        labels = {
            "display_name": _("Display name"),
            "is_buyer": _("Buyer: I buy compute"),
            "is_seller": _("Provider: I sell compute from my clusters"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.describe_fields()

    def clean(self):
        data = super().clean()
        if not data.get("is_buyer") and not data.get("is_seller"):
            self.add_error("is_buyer", _("Choose at least one role."))
        return data


class ApiKeyForm(DescribedFields, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the key is for, e.g. “market maker bot”."),
    )
    expires_on = forms.DateField(
        label=_("Expires on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.describe_fields()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the key a name."))
        return name

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(_("Choose a day after today."))
        return day


class ClusterForm(DescribedFields, forms.Form):
    """A provider's capacity: `count` chips of one model in one region. `hours` only
    sizes the preview."""

    name = forms.CharField(label=_("Name"), max_length=100)
    region = region_field(_("Region"))
    chip = forms.ModelChoiceField(
        label=_("Chip"),
        queryset=ChipModel.objects.select_related("stack").order_by("vendor", "model"),
        to_field_name="code",
    )
    count = forms.IntegerField(
        label=_("Chip count"),
        min_value=1,
        max_value=MAX_CHIPS,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    confidential = forms.BooleanField(
        label=_("Confidential computing (TEE)"),
        required=False,
        help_text=_("Declared now; an operator verifies it."),
    )
    certifications = forms.MultipleChoiceField(
        label=_("Certifications"),
        required=False,
        choices=Certification.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    hours = forms.IntegerField(
        label=_("Preview hours"),
        min_value=1,
        max_value=744,
        initial=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, participant: Participant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.participant = participant
        self.fields["region"].initial = participant.home_region.code
        self.describe_fields()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if self.participant.clusters.filter(name=name).exists():
            raise forms.ValidationError(_("You already have a cluster of this name."))
        return name
