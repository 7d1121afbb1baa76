from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest

from tisket import invitations, services
from tisket.errors import TisketError
from tisket.forms import AdminLoginForm
from tisket.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    MailBranding,
    McpCall,
    Membership,
    Notification,
    Organization,
    Sequence,
    TokenScope,
    User,
    UserSession,
)
from tisket.two_factor import api_token_two_factor_check

admin.site.site_header = "Tisket administration"
admin.site.site_title = "Tisket admin"
admin.site.login_form = AdminLoginForm


class TisketUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class TisketUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "organization"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = TisketUserChangeForm
    add_form = TisketUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__organization"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "code", "timezone", "created_at"]
    search_fields = ["name", "slug", "code"]
    list_filter = ["timezone"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Organization | None = None) -> list:
        # Slug and code are baked into addresses and references once issued.
        return ["slug", "code"] if obj else []


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["organization", "role"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__email", "user__full_name", "organization__name", "organization__slug"]
    autocomplete_fields = ["user", "organization"]


class ApiTokenAddForm(forms.ModelForm):
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.WRITE, required=False)

    class Meta:
        model = ApiToken
        fields = ["membership", "name", "role", "scope"]

    def clean_scope(self) -> str:
        return self.cleaned_data["scope"] or TokenScope.WRITE

    def clean(self) -> dict:
        cleaned = super().clean()
        membership = cleaned.get("membership")
        if membership is not None:
            try:
                api_token_two_factor_check(membership=membership)
            except TisketError as error:
                raise forms.ValidationError(str(error)) from None
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "membership",
        "role",
        "scope",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [
        "membership__organization",
        "role",
        "scope",
        ("revoked_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["membership__user", "membership__organization"]
    search_fields = ["name", "prefix", "membership__user__email", "membership__organization__slug"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    autocomplete_fields = ["membership"]
    actions = ["revoke"]

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return ["membership", "name", "role", "scope"]
        return ["membership", "name", "role", "scope", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return [*self.readonly_fields, "membership"] if obj else []

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name", "role", "scope"])
            return
        token, key = services.api_token_create(
            membership=obj.membership,
            name=obj.name,
            role=obj.role,
            scope=obj.scope,
            created_by=request.user,
        )
        obj.pk = token.pk
        self.message_user(
            request,
            f"Token created. Copy the key now, it is not shown again: {key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset) -> None:
        for token in queryset:
            services.api_token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")


@admin.register(McpCall)
class McpCallAdmin(admin.ModelAdmin):
    """The MCP server's log of tool calls: read-only, as a log is."""

    list_display = ["created_at", "organization", "token_label", "tool", "outcome", "duration_ms"]
    list_filter = ["organization", "outcome", "tool"]
    search_fields = ["token_label", "tool", "organization__slug", "arguments_digest"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: McpCall | None = None) -> bool:
        return False


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ["organization", "name", "last_value"]
    list_filter = ["organization", "name"]
    search_fields = ["organization__slug"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Sequence | None = None) -> bool:
        return False


@admin.register(MailBranding)
class MailBrandingAdmin(admin.ModelAdmin):
    """Read only: admins edit it on the settings page, where the wording is checked."""

    list_display = ["organization", "sender_name", "colour", "updated_at"]
    list_filter = ["organization"]
    search_fields = ["organization__slug", "sender_name"]
    list_select_related = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MailBranding | None = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at", "email_status"]
    list_filter = ["organization", "kind", "email_status"]
    search_fields = ["title", "recipient__user__email", "topic"]
    raw_id_fields = ["recipient"]
    list_select_related = ["recipient__user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are sent from the organization's settings; here they are looked at or revoked."""

    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["organization", "role"]
    search_fields = ["email", "organization__slug"]
    readonly_fields = ["token_hash", "created_at", "accepted_at", "invited_by"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an invitation needs its mailed link: the settings page makes it

    @admin.action(description="Revoke selected invitations")
    def revoke(self, request: HttpRequest, queryset) -> None:
        for invitation in queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True):
            invitations.invitation_revoke(invitation=invitation, actor=None)
        self.message_user(request, "Revoked the pending invitations among those selected.")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, read-only: nobody adds, changes or deletes an event, here or elsewhere."""

    list_display = ["created_at", "organization", "action", "actor_label", "target_label", "ip"]
    list_filter = ["action", "organization"]
    search_fields = ["actor_label", "target_label", "action"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    """Browser sessions: who, from where; deleting one signs that browser out."""

    list_display = ["user", "ip", "user_agent", "last_seen_at", "expire_date"]
    list_filter = ["expire_date", "created_at"]
    search_fields = ["user__email", "ip"]
    list_select_related = ["user"]
    fields = ["user", "ip", "user_agent", "created_at", "last_seen_at", "expire_date"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
