"""Forms of the settings pages: organization, members, invitations, API tokens, queues, macros.

They parse and check what an admin typed; the services decide and write.
"""

import re
import zoneinfo
from functools import cache

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from inboxes.models import Inbox
from tickets.models import MACRO_VARIABLES, Macro, Queue, Ticket, validate_macro_body
from tisket.lib.templating import template_help
from tisket.models import Membership, Organization, Role, TokenScope, role_at_least


@cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": "'%(value)s' is not a known time zone (e.g. Europe/Paris)."},
        )
        super().__init__(choices=timezone_choices, **kwargs)


def roles_granted_by(actor: Membership) -> list[tuple[str, str]]:
    """The roles this member may give: an owner any, an admin any but owner."""
    return [
        (value, label)
        for value, label in Role.choices
        if value != Role.OWNER or actor.role == Role.OWNER
    ]


def split_list(value: str) -> list[str]:
    """Items separated by commas, semicolons, spaces or new lines; blanks dropped."""
    return [item for item in re.split(r"[\s,;]+", value or "") if item]


def form_error(form: forms.Form, error: Exception) -> None:
    """Put a service's error on the form: on the field it names when the form has one."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif isinstance(error, ValidationError):
        form.add_error(None, error)
    else:
        form.add_error(None, str(error))


# --- Organization, members, tokens -------------------------------------------------


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200)
    timezone = TimeZoneField(
        label="Time zone", help_text="Dates and new SLA calendars use it by default."
    )
    require_two_factor = forms.BooleanField(
        label="Members must sign in with two factors",
        required=False,
        help_text="A member without an authenticator app is asked to set one up before going on.",
    )
    restrict_agents_to_queues = forms.BooleanField(
        label="Agents see only their queues' conversations",
        required=False,
        help_text="And the tickets assigned to them. Supervisors and above see everything.",
    )
    portal_company_view = forms.BooleanField(
        label="Clients see their company's requests in the portal",
        required=False,
        help_text="Everyone at a client company's email domains (SLA customers) sees the "
        "company's conversations, not only their own.",
    )

    @classmethod
    def for_organization(cls, organization: Organization, data=None) -> "OrganizationForm":
        initial = {
            "name": organization.name,
            "timezone": organization.timezone,
            "require_two_factor": organization.require_two_factor,
            "restrict_agents_to_queues": organization.restrict_agents_to_queues,
            "portal_company_view": organization.portal_company_view,
        }
        return cls(data, initial=initial)


class InviteForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"placeholder": "name@example.com"}))
    role = forms.ChoiceField(initial=Role.AGENT)

    def __init__(self, *args, actor: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles_granted_by(actor)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"placeholder": "e.g. Nightly export"})
    )
    role = forms.ChoiceField(
        required=False,
        label="Role ceiling",
        help_text="The token never acts above your own role; pick a lower one to limit it.",
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.WRITE,
        required=False,
        help_text="A read token never writes (for an AI assistant that only reads, say).",
    )

    def clean_scope(self) -> str:
        return self.cleaned_data["scope"] or TokenScope.WRITE

    def __init__(self, *args, member: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", f"My role ({member.get_role_display()})")] + [
            (value, label) for value, label in Role.choices if role_at_least(member.role, value)
        ]


class AcceptNewUserForm(forms.Form):
    """A newcomer's name and password, set while accepting an invitation."""

    full_name = forms.CharField(
        max_length=150, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        strip=False,
        label="Password, again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        data = super().clean()
        password, again = data.get("password"), data.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The two passwords differ.")
        elif password:
            from tisket.models import User

            try:
                validate_password(password, User(email=self.email, full_name=data.get("full_name")))
            except ValidationError as error:
                self.add_error("password", error)
        return data


# --- Queues and macros ---------------------------------------------------------------


class MemberChoiceMixin:
    def label_from_instance(self, membership: Membership) -> str:
        return membership.user.full_name or membership.user.email


class MembersField(MemberChoiceMixin, forms.ModelMultipleChoiceField):
    pass


def _workers(organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .exclude(role=Role.VIEWER)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


class QueueForm(forms.Form):
    name = forms.CharField(max_length=100)
    members = MembersField(
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The agents who work this queue.",
    )
    inboxes = forms.ModelMultipleChoiceField(
        queryset=Inbox.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="New threads of these inboxes open their tickets here.",
    )
    auto_assign = forms.BooleanField(
        required=False,
        label="Assign new tickets round-robin",
        help_text="Among the queue's agents, least recently assigned first.",
    )
    open_ticket_cap = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,  # the column's range: beyond it the database refuses the number
        label="Open ticket cap",
        help_text="Round-robin skips agents holding this many open tickets; blank: no cap.",
    )

    def __init__(
        self, *args, organization: Organization, queue: Queue | None = None, **kwargs
    ) -> None:
        if queue is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": queue.name,
                    "members": [m.membership_id for m in queue.queue_members.all()],
                    "inboxes": [i.pk for i in queue.inboxes.all()],
                    "auto_assign": queue.auto_assign,
                    "open_ticket_cap": queue.open_ticket_cap,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = _workers(organization)
        self.fields["inboxes"].queryset = Inbox.objects.filter(organization=organization)


NO_CHANGE = ""
UNASSIGN = "none"


class MacroForm(forms.Form):
    name = forms.CharField(max_length=100)
    body = forms.CharField(
        required=False,
        label="Reply text",
        widget=forms.Textarea(attrs={"rows": 8}),
        validators=[validate_macro_body],
        help_text=template_help(variables=MACRO_VARIABLES),
    )
    status = forms.ChoiceField(
        required=False, choices=[(NO_CHANGE, "— no change —"), *Ticket.Status.choices]
    )
    priority = forms.ChoiceField(
        required=False, choices=[(NO_CHANGE, "— no change —"), *Ticket.Priority.choices]
    )
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.none(), required=False, empty_label="— no change —"
    )
    assignee = forms.ChoiceField(required=False)
    tags_add = forms.CharField(
        required=False, label="Add tags", help_text="Separated by commas or spaces."
    )
    tags_remove = forms.CharField(required=False, label="Remove tags")

    def __init__(
        self, *args, organization: Organization, macro: Macro | None = None, **kwargs
    ) -> None:
        if macro is not None:
            actions = macro.actions or {}
            assignee = actions.get("assignee", NO_CHANGE) if "assignee" in actions else NO_CHANGE
            kwargs.setdefault(
                "initial",
                {
                    "name": macro.name,
                    "body": macro.body,
                    "status": actions.get("status", NO_CHANGE),
                    "priority": actions.get("priority", NO_CHANGE),
                    "queue": actions.get("queue"),
                    "assignee": UNASSIGN if assignee is None else str(assignee),
                    "tags_add": ", ".join(actions.get("tags_add", [])),
                    "tags_remove": ", ".join(actions.get("tags_remove", [])),
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.filter(organization=organization)
        self.fields["assignee"].choices = [
            (NO_CHANGE, "— no change —"),
            (UNASSIGN, "Unassign"),
            *[(str(m.pk), m.user.full_name or m.user.email) for m in _workers(organization)],
        ]

    def actions(self) -> dict:
        """The macro's actions, as the macros service stores them."""
        data = self.cleaned_data
        actions: dict = {}
        for key in ("status", "priority"):
            if data[key]:
                actions[key] = data[key]
        if data["queue"] is not None:
            actions["queue"] = data["queue"].pk
        if data["assignee"] == UNASSIGN:
            actions["assignee"] = None
        elif data["assignee"]:
            actions["assignee"] = int(data["assignee"])
        for key in ("tags_add", "tags_remove"):
            tags = split_list(data[key])
            if tags:
                actions[key] = tags
        return actions
