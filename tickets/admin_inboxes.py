"""Admin of inboxes, here because it polls their mailboxes through intake (tickets.intake)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from inboxes import imap, services, transports
from inboxes.models import Inbox, InboxAddress
from tickets.intake.mailboxes import mailbox_poll


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
    actions = ["test_smtp", "test_imap", "fetch_now"]
    exclude = ["smtp_password_sealed", "esp_settings_sealed", "imap_password_sealed"]

    def _report(self, request: HttpRequest, inbox: Inbox, ok: bool, message: str) -> None:
        level = messages.SUCCESS if ok else messages.ERROR
        self.message_user(request, f"{inbox.address}: {message}", level)

    @admin.action(description="Test the SMTP server")
    def test_smtp(self, request: HttpRequest, queryset) -> None:
        for inbox in queryset:
            self._report(request, inbox, *transports.smtp_test(inbox=inbox))

    @admin.action(description="Test the IMAP mailbox")
    def test_imap(self, request: HttpRequest, queryset) -> None:
        for inbox in queryset:
            self._report(request, inbox, *imap.imap_test(inbox=inbox))

    @admin.action(description="Fetch new mail from the IMAP mailbox now")
    def fetch_now(self, request: HttpRequest, queryset) -> None:
        for inbox in queryset.exclude(imap_host=""):
            try:
                fetched = mailbox_poll(inbox=inbox)
            except imap.MailboxError as exc:
                self._report(request, inbox, False, str(exc))
            else:
                self._report(request, inbox, True, f"fetched {fetched} new mail(s).")

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
