"""Admin of SLA settings: policies, calendars, client companies. The SLA sweep recomputes
the open tickets after a change (tickets.sla.sweep)."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from sla import services
from sla.models import (
    BusinessCalendar,
    CustomerDomain,
    CustomerOrganization,
    Holiday,
    OpeningHours,
    SlaPolicy,
    SlaTarget,
)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class RecomputeMixin:
    """Bump updated_at after any change, inlines included: the deadline math's memo key,
    and what the SLA sweep compares the tickets' deadlines with."""

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        type(obj).objects.filter(pk=obj.pk).update(updated_at=timezone.now())


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(RecomputeMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "timezone", "always_open", "updated_at"]
    list_filter = ["organization", "always_open"]
    search_fields = ["name", "organization__slug"]
    inlines = [OpeningHoursInline, HolidayInline]
    readonly_fields = ["created_at", "updated_at"]


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(RecomputeMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "calendar", "is_default", "updated_at"]
    list_filter = ["organization", "is_default"]
    search_fields = ["name", "organization__slug"]
    inlines = [SlaTargetInline]
    readonly_fields = ["created_at", "updated_at"]

    def has_delete_permission(self, request: HttpRequest, obj: SlaPolicy | None = None) -> bool:
        # The default policy is refused by the service; say so by offering no delete.
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: SlaPolicy) -> None:
        services.policy_delete(policy=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        defaults = [p.name for p in queryset if p.is_default]
        if defaults:
            self.message_user(
                request,
                f"Not deleted: {', '.join(defaults)} (the default policy of its organization).",
                level="error",
            )
        for policy in queryset.filter(is_default=False):
            services.policy_delete(policy=policy)


class CustomerDomainInline(admin.TabularInline):
    model = CustomerDomain
    extra = 0
    exclude = ["organization"]


@admin.register(CustomerOrganization)
class CustomerOrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "policy"]
    list_filter = ["organization", "policy"]
    search_fields = ["name", "domains__domain"]
    inlines = [CustomerDomainInline]
    readonly_fields = ["created_at"]

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        for instance in formset.save(commit=False):
            instance.organization_id = form.instance.organization_id
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
