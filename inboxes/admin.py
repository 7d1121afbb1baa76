from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from inboxes import services
from inboxes.models import Inbox, InboxAddress


class InboxAddressInline(admin.TabularInline):
    model = InboxAddress
    extra = 0


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    list_display = ["address", "name", "organization", "auto_ack_enabled", "created_at"]
    list_filter = ["organization", "auto_ack_enabled"]
    list_select_related = ["organization"]
    search_fields = ["name", "address", "extra_addresses__address", "organization__slug"]
    inlines = [InboxAddressInline]
    autocomplete_fields = ["organization"]

    def get_readonly_fields(self, request: HttpRequest, obj: Inbox | None = None) -> list[str]:
        return (
            ["organization", "name", "address", "created_at"] if obj else ["address", "created_at"]
        )

    def save_model(self, request: HttpRequest, obj: Inbox, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        fields = {k: getattr(obj, k) for k in services.EDITABLE}
        try:
            created = services.inbox_create(organization=obj.organization, name=obj.name, **fields)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        obj.pk, obj.address = created.pk, created.address
        obj._state.adding = False


@admin.register(InboxAddress)
class InboxAddressAdmin(admin.ModelAdmin):
    list_display = ["address", "inbox"]
    list_filter = ["inbox__organization"]
    list_select_related = ["inbox"]
    search_fields = ["address", "inbox__address"]
