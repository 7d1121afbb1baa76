"""The branding editor's form: colour, sender name, postal address, and each mail type's
wording (variables only, checked here before anything is saved or previewed)."""

import re

from django import forms
from django.core.exceptions import ValidationError

from tisket.branding.models import MailBranding
from tisket.branding.types import MAIL_TYPES, validate_wording

COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def _colour(value: str) -> None:
    if value and not COLOUR_RE.fullmatch(value):
        raise ValidationError("A colour is written #rrggbb, such as #2f6fde.")


def _one_line(value: str) -> None:
    if any(ch in value for ch in '\r\n<>"') or any(ord(ch) < 32 for ch in value):
        raise ValidationError("A sender name is one line, without < > or quotes.")


class BrandingForm(forms.Form):
    colour = forms.CharField(
        required=False,
        max_length=7,
        validators=[_colour],
        help_text="It starts as the help centre's colour.",
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    sender_name = forms.CharField(
        required=False,
        max_length=100,
        validators=[_one_line],
        help_text="Shown at the top of the mail and as the name mail without an inbox is "
        "sent from. Blank: the organization's name.",
    )
    postal_address = forms.CharField(
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In the footer of every mail, as the law of many countries asks of "
        "commercial mail.",
    )
    preview_type = forms.ChoiceField(
        label="Preview",
        choices=[(t.key, t.label) for t in MAIL_TYPES.values()],
        required=False,
    )

    def __init__(self, *args, branding: MailBranding | None = None, **kwargs) -> None:
        initial = kwargs.pop("initial", {}) or {}
        if branding is not None:
            initial |= {
                "colour": branding.colour or initial.get("colour", ""),
                "sender_name": branding.sender_name,
                "postal_address": branding.postal_address,
            }
        wording = branding.wording if branding is not None else {}
        super().__init__(*args, initial=initial, **kwargs)
        for typ in MAIL_TYPES.values():
            what = "footer line" if typ.key == "reply" else "heading"
            self.fields[f"wording_{typ.key}"] = forms.CharField(
                label=f"{typ.label}: {what}",
                required=False,
                max_length=300,
                validators=[validate_wording],
                initial=wording.get(typ.key, typ.default),
            )

    def wording_fields(self) -> list:
        return [self[f"wording_{key}"] for key in MAIL_TYPES]

    def values(self) -> dict:
        """What the admin typed, as the branding service and the brand take it."""
        data = self.cleaned_data
        return {
            "colour": data["colour"].lower(),
            "sender_name": " ".join(data["sender_name"].split()),
            "postal_address": data["postal_address"].strip(),
            "wording": {key: data[f"wording_{key}"].strip() for key in MAIL_TYPES},
        }

    def kind(self) -> str:
        chosen = self.cleaned_data.get("preview_type") if hasattr(self, "cleaned_data") else ""
        return chosen or "acknowledgement"
