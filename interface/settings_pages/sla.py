"""SLA settings: business calendars, policies and customer tiers.

Writes go through sla.services; every change that moves deadlines queues the
recompute of open tickets after commit, exactly as sla/api.py does.
"""

from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from interface.settings_pages.common import admin_view, done, page, refused
from interface.settings_pages.forms import form_error
from interface.settings_pages.sla_forms import (
    METRIC_LABELS,
    WEEKDAYS,
    CalendarForm,
    CustomerForm,
    HolidayImportForm,
    PolicyForm,
    duration_format,
    intervals_format,
)
from sla import selectors, services
from sla.models import METRICS, BusinessCalendar, CustomerOrganization, Priority, SlaPolicy
from tisket.errors import TisketError

SECTION = "settings:sla"


def _policy_ids(calendar: BusinessCalendar) -> list[int]:
    return list(calendar.policies.values_list("pk", flat=True))


# --- Overview -------------------------------------------------------------------------------


def _week(calendar: BusinessCalendar) -> list[tuple[str, str]]:
    """(Mon, "09:00-17:00") per weekday, from prefetched hours."""
    by_day: dict[int, list] = {}
    for interval in calendar.hours.all():
        by_day.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
    return [(name[:3], intervals_format(by_day.get(d, []))) for d, name in enumerate(WEEKDAYS)]


def _targets(policy: SlaPolicy) -> list[tuple[Priority, list[str]]]:
    """(priority, [first response, next response, resolution]) from prefetched targets."""
    rows = []
    for priority in Priority:
        target = policy.target_for(priority.value)
        cells = [duration_format(target.minutes(m)) if target else "" for m in METRICS]
        rows.append((priority, cells))
    return rows


@admin_view
def overview(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    calendars = (
        BusinessCalendar.objects.filter(organization=organization)
        .prefetch_related("hours")
        .annotate(holiday_count=Count("holidays"))
    )
    context = {
        "calendars": [(c, _week(c)) for c in calendars],
        "policies": [(p, _targets(p)) for p in selectors.policies_list(organization=organization)],
        "customers": selectors.customers_list(organization=organization),
    }
    return page(request, "settings/sla.html", context, section=SECTION)


# --- Calendars -------------------------------------------------------------------------------


def _calendar_page(
    request: HttpRequest,
    form: CalendarForm,
    calendar: BusinessCalendar | None,
    import_form: HolidayImportForm | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "calendar": calendar,
        "import_form": import_form or HolidayImportForm(),
    }
    return page(request, "settings/calendar_form.html", context, section=SECTION)


@admin_view
def calendar_new(request: HttpRequest) -> HttpResponse:
    form = CalendarForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                calendar = services.calendar_create(
                    organization=request.organization,
                    name=data["name"],
                    timezone_name=data["timezone"],
                    always_open=data["always_open"],
                    hours=data["hours"],
                )
                services.calendar_set_holidays(calendar=calendar, holidays=data["holidays"])
        except TisketError as error:
            form_error(form, error)
        else:
            return done(request, f"Calendar {calendar.name} created.", SECTION)
    return _calendar_page(request, form, None)


@admin_view
def calendar_edit(request: HttpRequest, calendar: int) -> HttpResponse:
    found = selectors.calendar_get(organization=request.organization, pk=calendar)
    form = CalendarForm(request.POST or None, organization=request.organization, calendar=found)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.calendar_update(
                    calendar=found,
                    name=data["name"],
                    timezone_name=data["timezone"],
                    always_open=data["always_open"],
                    hours=data["hours"],
                )
                services.calendar_set_holidays(calendar=found, holidays=data["holidays"])
        except TisketError as error:
            form_error(form, error)
            found = selectors.calendar_get(organization=request.organization, pk=calendar)
        else:
            return done(request, f"Calendar {found.name} saved.", SECTION)
    return _calendar_page(request, form, found)


@admin_view
@require_POST
def calendar_import_holidays(request: HttpRequest, calendar: int) -> HttpResponse:
    found = selectors.calendar_get(organization=request.organization, pk=calendar)
    import_form = HolidayImportForm(request.POST)
    if import_form.is_valid():
        data = import_form.cleaned_data
        try:
            with transaction.atomic():
                added = services.calendar_import_holidays(
                    calendar=found,
                    country=data["country"],
                    subdivision=data["subdivision"],
                    years=[data["year"]],
                )
        except TisketError as error:
            form_error(import_form, error)
        else:
            country = data["country"].upper()
            return done(
                request,
                f"Added {added} public holiday(s) of {country} in {data['year']}.",
                "settings:calendar",
                found.pk,
            )
    form = CalendarForm(organization=request.organization, calendar=found)
    return _calendar_page(request, form, found, import_form)


@admin_view
@require_POST
def calendar_delete(request: HttpRequest, calendar: int) -> HttpResponse:
    found = selectors.calendar_get(organization=request.organization, pk=calendar)
    try:
        services.calendar_delete(calendar=found)
    except TisketError as error:
        return refused(request, error, "settings:calendar", found.pk)
    return done(request, f"Calendar {found.name} deleted.", SECTION)


# --- Policies ----------------------------------------------------------------------------------


def _policy_page(request: HttpRequest, form: PolicyForm, policy: SlaPolicy | None) -> HttpResponse:
    context = {"form": form, "policy": policy, "metrics": METRIC_LABELS.values()}
    return page(request, "settings/policy_form.html", context, section=SECTION)


@admin_view
def policy_new(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    form = PolicyForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            policy = services.policy_create(
                organization=organization,
                name=data["name"],
                calendar=data["calendar"],
                is_default=data["is_default"],
                targets=form.targets(),
            )
        except TisketError as error:
            form_error(form, error)
        else:
            return done(request, f"Policy {policy.name} created.", SECTION)
    return _policy_page(request, form, None)


@admin_view
def policy_edit(request: HttpRequest, policy: int) -> HttpResponse:
    found = selectors.policy_get(organization=request.organization, pk=policy)
    form = PolicyForm(request.POST or None, organization=request.organization, policy=found)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.policy_update(
                    policy=found,
                    name=data["name"],
                    calendar=data["calendar"],
                    is_default=data["is_default"],
                    targets=form.targets(),
                )
        except TisketError as error:
            form_error(form, error)
            found = selectors.policy_get(organization=request.organization, pk=policy)
        else:
            return done(request, f"Policy {found.name} saved.", SECTION)
    return _policy_page(request, form, found)


@admin_view
@require_POST
def policy_delete(request: HttpRequest, policy: int) -> HttpResponse:
    found = selectors.policy_get(organization=request.organization, pk=policy)
    try:
        with transaction.atomic():
            services.policy_delete(policy=found)
    except TisketError as error:
        return refused(request, error, "settings:policy", found.pk)
    return done(request, f"Policy {found.name} deleted.", SECTION)


# --- Customer organizations -------------------------------------------------------------------


def _customer_page(
    request: HttpRequest, form: CustomerForm, customer: CustomerOrganization | None
) -> HttpResponse:
    context = {"form": form, "customer": customer}
    return page(request, "settings/customer_form.html", context, section=SECTION)


def _customer_save(
    request: HttpRequest, form: CustomerForm, customer: CustomerOrganization | None
) -> CustomerOrganization | None:
    data = form.cleaned_data
    try:
        with transaction.atomic():
            saved = services.customer_save(
                organization=request.organization,
                name=data["name"],
                policy=data["policy"],
                domains=data["domains"],
                customer=customer,
            )
    except TisketError as error:
        form_error(form, error)
        return None
    return saved


@admin_view
def customer_new(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        customer = _customer_save(request, form, None)
        if customer is not None:
            return done(request, f"Customer {customer.name} created.", SECTION)
    return _customer_page(request, form, None)


@admin_view
def customer_edit(request: HttpRequest, customer: int) -> HttpResponse:
    found = selectors.customer_get(organization=request.organization, pk=customer)
    form = CustomerForm(request.POST or None, organization=request.organization, customer=found)
    if request.method == "POST" and form.is_valid():
        if _customer_save(request, form, found) is not None:
            return done(request, f"Customer {form.cleaned_data['name']} saved.", SECTION)
        found = selectors.customer_get(organization=request.organization, pk=customer)
    return _customer_page(request, form, found)


@admin_view
@require_POST
def customer_delete(request: HttpRequest, customer: int) -> HttpResponse:
    found = selectors.customer_get(organization=request.organization, pk=customer)
    found.delete()
    return done(request, f"Customer {found.name} deleted.", SECTION)
