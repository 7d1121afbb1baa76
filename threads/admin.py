from django.contrib import admin, messages
from django.http import HttpRequest

from threads import outbound
from threads.models import (
    Attachment,
    ClientSession,
    Message,
    OutboundMail,
    Participant,
    SenderRule,
    Suppression,
    Thread,
)
from threads.portal import portal_session_end
from tisket.errors import TisketError


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0


def each_mail(model_admin, request: HttpRequest, queryset, action, *, done: str) -> None:
    """Apply an action to each selected mail; say how many, and why the others were refused."""
    count, refused = 0, []
    for mail in queryset:
        try:
            action(mail)
            count += 1
        except TisketError as exc:
            refused.append(f"#{mail.pk}: {exc}")
    model_admin.message_user(request, done.format(n=count))
    if refused:
        model_admin.message_user(request, " ".join(refused), messages.WARNING)


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["reference", "subject", "status", "inbox", "client_email", "updated_at"]
    list_filter = ["organization", "status", "inbox"]
    list_select_related = ["inbox"]
    search_fields = ["reference", "subject", "client_email", "participants__email"]
    readonly_fields = ["organization", "number", "reference", "message_count", "created_at"]
    inlines = [ParticipantInline]
    date_hierarchy = "updated_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # threads come from mail (or the API)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["filename", "content_type", "size", "is_inline", "omitted_reason", "file"]
    readonly_fields = fields


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "thread",
        "direction",
        "from_email",
        "subject",
        "automated_reason",
        "created_at",
    ]
    list_filter = ["organization", "direction", ("automated_reason", admin.EmptyFieldListFilter)]
    list_select_related = ["thread"]
    search_fields = ["thread__reference", "from_email", "subject", "message_id"]
    raw_id_fields = ["thread", "author"]
    readonly_fields = ["organization", "dedupe_key", "message_id", "in_reply_to", "references"]
    inlines = [AttachmentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["filename", "content_type", "size", "message", "omitted_reason"]
    list_filter = ["organization", "content_type", "is_inline"]
    search_fields = ["filename", "sha256", "message__thread__reference"]
    raw_id_fields = ["message"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "kind", "status", "attempts", "subject", "inbox", "sent_at"]
    list_filter = ["status", "kind", "organization"]
    list_select_related = ["inbox"]
    search_fields = ["message_id_header", "subject", "thread__reference"]
    readonly_fields = [f.name for f in OutboundMail._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Send failed or bounced mail again")
    def send_again(self, request: HttpRequest, queryset) -> None:
        # Pending, sending or sent mail is refused: it may leave yet, or has.
        each_mail(
            self,
            request,
            queryset,
            lambda m: outbound.outbox_send_again(outbound=m, actor=None),
            done="Queued {n} mail(s) again.",
        )


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "organization", "reason", "until", "created_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["address"]
    date_hierarchy = "created_at"


@admin.register(SenderRule)
class SenderRuleAdmin(admin.ModelAdmin):
    list_display = ["pattern", "kind", "action", "organization", "created_by", "created_at"]
    list_filter = ["kind", "organization"]
    list_select_related = ["organization", "created_by__user"]
    search_fields = ["pattern"]
    raw_id_fields = ["created_by"]


@admin.register(ClientSession)
class ClientSessionAdmin(admin.ModelAdmin):
    """Clients signed in to a portal: who, since when; end one (a lost phone, a request)."""

    list_display = ["email", "organization", "created_at", "last_seen_at", "expires_at", "ended_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["email"]
    readonly_fields = [
        "organization",
        "email",
        "created_at",
        "last_seen_at",
        "expires_at",
        "ended_at",
    ]
    exclude = ["key_hash"]
    actions = ["end_sessions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="End the selected sessions")
    def end_sessions(self, request: HttpRequest, queryset) -> None:
        for session in queryset:
            portal_session_end(session=session)
        self.message_user(request, f"{queryset.count()} session(s) ended.")
