from django.contrib import admin
from django.http import HttpRequest

from tickets import (  # noqa: F401 (these register more models)
    admin_inboxes,  # inboxes: their mailboxes are polled by intake
    admin_intake,  # the inbound log: retry and release through intake
)
from tickets.models import (
    Macro,
    Note,
    Queue,
    QueueMember,
    SlaBreach,
    Tag,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketThread,
)


class QueueMemberInline(admin.TabularInline):
    model = QueueMember
    extra = 0
    raw_id_fields = ["membership"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "auto_assign", "open_ticket_cap"]
    list_filter = ["organization", "auto_assign"]
    search_fields = ["name", "organization__slug"]
    filter_horizontal = ["inboxes"]
    inlines = [QueueMemberInline]


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    """The model's clean() refuses a text that is more than variables, as every writer does."""

    list_display = ["name", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "organization__slug"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at"]


class TicketThreadInline(admin.TabularInline):
    model = TicketThread
    extra = 0
    raw_id_fields = ["thread"]


class NoteInline(admin.StackedInline):
    model = Note
    extra = 0
    raw_id_fields = ["author"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["reference", "subject", "status", "priority", "queue", "assignee", "updated_at"]
    list_filter = ["organization", "status", "priority", "queue", "created_via"]
    list_select_related = ["queue", "assignee__user"]
    search_fields = ["reference", "subject", "customer_email", "tags__name"]
    readonly_fields = [
        "organization",
        "number",
        "reference",
        "reopen_count",
        "created_at",
        "sla_policy",
        "sla_started_at",
        "sla_paused_at",
        "first_response_due_at",
        "next_response_due_at",
        "resolution_due_at",
    ]
    exclude = [
        "sla_pauses",
        "first_response_alert_at",
        "next_response_started_at",
        "next_response_alert_at",
        "resolution_alert_at",
    ]
    raw_id_fields = ["assignee", "parent", "merged_into", "queue"]
    filter_horizontal = ["tags"]
    inlines = [TicketThreadInline, NoteInline]
    date_hierarchy = "updated_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets are opened through the API, the UI or mail (reference, events)


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "actor", "created_at"]
    list_filter = ["kind", "ticket__organization"]
    search_fields = ["ticket__reference"]
    raw_id_fields = ["ticket", "actor"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TicketEvent | None = None) -> bool:
        return False  # append-only


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    list_filter = ["organization"]
    search_fields = ["name"]


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    list_filter = ["organization"]
    search_fields = ["name"]


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    list_display = ["ticket", "metric", "priority", "due_at", "breached_at"]
    list_filter = ["organization", "metric", "priority"]
    search_fields = ["ticket__reference"]
    list_select_related = ["ticket"]
    date_hierarchy = "breached_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SlaBreach | None = None) -> bool:
        return False
