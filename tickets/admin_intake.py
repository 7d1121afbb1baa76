"""Admin of the inbound log: retrying and releasing mail goes through intake, with its ticket."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from threads.admin import each_mail
from threads.models import InboundMail
from tickets import intake

RAW_SHOWN = 200_000


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "received_at",
        "source",
        "status",
        "from_email",
        "subject",
        "inbox",
        "thread",
        "reason",
    ]
    list_filter = ["status", "source", "organization"]
    list_select_related = ["inbox", "thread"]
    search_fields = [
        "from_email",
        "subject",
        "message_id_header",
        "envelope_recipient",
        "raw_sha256",
    ]
    exclude = ["raw_data"]
    readonly_fields = [
        *(f.name for f in InboundMail._meta.fields if f.name not in {"raw_data"}),
        "raw_mail",
    ]
    actions = ["retry", "release", "discard"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Raw mail (as received)")
    def raw_mail(self, mail: InboundMail) -> str:
        """The bytes as they came, so that a failed mail can be read and its fault found."""
        try:
            data = mail.raw_bytes()
        except OSError as error:
            return f"Raw mail unreadable: {error}"
        shown = data[:RAW_SHOWN].decode("utf-8", "backslashreplace")
        more = f"\n… {len(data) - RAW_SHOWN} more bytes" if len(data) > RAW_SHOWN else ""
        return format_html('<pre style="white-space:pre-wrap">{}{}</pre>', shown, more)

    def _each(self, request: HttpRequest, queryset, action, verb: str) -> None:
        each_mail(self, request, queryset, action, done=f"{verb} {{n}} mail(s).")

    @admin.action(description="Retry processing of failed mail")
    def retry(self, request: HttpRequest, queryset) -> None:
        self._each(request, queryset, lambda m: intake.mail_retry(inbound_mail=m), "Retried")

    @admin.action(description="Release quarantined mail into its thread")
    def release(self, request: HttpRequest, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda m: intake.mail_release(inbound_mail=m, actor=None),
            "Released",
        )

    @admin.action(description="Discard quarantined mail")
    def discard(self, request: HttpRequest, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda m: intake.quarantine_discard(inbound=m, actor=None),
            "Discarded",
        )
