"""The matrix as forms: a member's own cells, and the admins' defaults with their locks."""

from django import forms

from tisket.notifications.matrix import SCOPES, Cell, Channel, Event, Scope

FIELD = "{event}__{channel}"
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def field_name(event: str, channel: str) -> str:
    return FIELD.format(event=event, channel=channel)


def _choices(event: str, minimum: str = Scope.OFF) -> list[tuple[str, str]]:
    offered = [s for s in SCOPES[event] if list(Scope).index(s) >= list(Scope).index(minimum)]
    return [(s.value, s.label) for s in offered]


class MatrixRowsMixin:
    """The form's fields as rows for the template: each event with its two cells."""

    fields: dict

    def rows(self) -> list[dict]:
        """Each event with its cells: (the scope's field, its lock's field or None)."""
        rows = []
        for event in Event:
            cells = []
            for channel in Channel:
                name = field_name(event, channel)
                lock = f"{name}__locked"
                cells.append((self[name], self[lock] if lock in self.fields else None))
            rows.append({"event": event, "cells": cells})
        return rows


class PreferencesForm(MatrixRowsMixin, forms.Form):
    """A member's matrix, quiet hours and digest; locked cells are shown, not editable."""

    quiet_hours_start = forms.TimeField(required=False, label="Quiet from", widget=TIME)
    quiet_hours_end = forms.TimeField(
        required=False,
        label="Quiet until",
        widget=TIME,
        help_text="No mail in these hours (your time zone), but SLA breaches of your tickets; "
        "what waited comes after.",
    )
    email_digest = forms.BooleanField(
        required=False,
        label="One digest mail a day instead",
        help_text="What is still unread, the conversations most at risk of missing their SLA "
        "first. SLA breaches of your own tickets still come at once.",
    )
    digest_time = forms.TimeField(label="Digest at", widget=TIME)

    def __init__(self, *args, matrix: dict[tuple[str, str], Cell], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.matrix = matrix
        for (event, channel), cell in matrix.items():
            self.fields[field_name(event, channel)] = forms.ChoiceField(
                label=f"{Event(event).label}, {Channel(channel).label.lower()}",
                choices=_choices(event, cell.floor),
                initial=cell.scope.value,
                disabled=cell.locked,
                help_text=f"Default: {cell.default.label}" + (" (locked)" if cell.locked else ""),
            )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("quiet_hours_start"), data.get("quiet_hours_end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Quiet hours need both a start and an end.")
        return data

    def cells(self) -> dict[tuple[str, str], str]:
        return {
            key: self.cleaned_data[field_name(*key)]
            for key, cell in self.matrix.items()
            if not cell.locked
        }


class DefaultsForm(MatrixRowsMixin, forms.Form):
    """The organization's default for each cell, and whether members may change it."""

    def __init__(self, *args, matrix: dict[tuple[str, str], Cell], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for (event, channel), cell in matrix.items():
            name = field_name(event, channel)
            self.fields[name] = forms.ChoiceField(
                label=f"{Event(event).label}, {Channel(channel).label.lower()}",
                choices=_choices(event, cell.floor),
                initial=cell.default.value,
            )
            self.fields[f"{name}__locked"] = forms.BooleanField(
                required=False, label="Locked", initial=cell.locked
            )

    def cells(self) -> dict[tuple[str, str], tuple[str, bool]]:
        return {
            (event, channel): (
                self.cleaned_data[field_name(event, channel)],
                self.cleaned_data[f"{field_name(event, channel)}__locked"],
            )
            for event in Event
            for channel in Channel
        }
