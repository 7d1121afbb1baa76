"""REST API of SLA: calendars, policies, customer tiers (admins write), summary and metrics."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from sla import selectors, services
from sla.models import (
    METRICS,
    BusinessCalendar,
    CustomerOrganization,
    Priority,
    SlaPolicy,
)
from tickets.sla import reports
from tisket.api_auth import OrganizationApiMixin
from tisket.models import Role

# Calendars ---------------------------------------------------------------------


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"}
)
class WallTimeField(serializers.TimeField):
    """A wall-clock time of day, HH:MM in the calendar's time zone (not an RFC 3339 time)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


class HoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 is Monday.")
    opens = WallTimeField()
    closes = WallTimeField(help_text="00:00 is midnight.")


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    yearly = serializers.BooleanField(required=False, default=False)


class CalendarSerializer(serializers.ModelSerializer):
    hours = HoursSerializer(many=True, required=False)
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "timezone", "always_open", "hours", "holidays", "updated_at"]
        read_only_fields = ["id", "updated_at"]
        extra_kwargs = {"timezone": {"required": False}}

    def validate_timezone(self, value: str) -> str:
        field = BusinessCalendar._meta.get_field("timezone")
        try:
            field.run_validators(value)
        except Exception as error:
            raise serializers.ValidationError(f"'{value}' is not a time zone name.") from error
        return value


class HolidayImportSerializer(serializers.Serializer):
    country = serializers.CharField(max_length=3, help_text="ISO 3166 code, e.g. FR, US, DE.")
    subdivision = serializers.CharField(max_length=10, required=False, allow_blank=True)
    years = serializers.ListField(
        child=serializers.IntegerField(min_value=1970, max_value=2200),
        min_length=1,
        max_length=10,
    )


class SlaAdminMixin(OrganizationApiMixin):
    write_role = Role.ADMIN

    def calendar(self, pk) -> BusinessCalendar:
        return selectors.calendar_get(organization=self.organization, pk=pk)

    def policy(self, pk) -> SlaPolicy:
        return selectors.policy_get(organization=self.organization, pk=pk)

    def customer(self, pk) -> CustomerOrganization:
        return selectors.customer_get(organization=self.organization, pk=pk)


class CalendarListApi(SlaAdminMixin, GenericAPIView):
    serializer_class = CalendarSerializer

    def get_queryset(self) -> QuerySet[BusinessCalendar]:
        return selectors.calendars_list(organization=self.organization)

    @extend_schema(responses=CalendarSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CalendarSerializer(page, many=True).data)

    @extend_schema(responses={201: CalendarSerializer})
    def post(self, request: Request) -> Response:
        serializer = CalendarSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            calendar = services.calendar_create(
                organization=self.organization,
                name=data["name"],
                timezone_name=data.get("timezone"),
                always_open=data.get("always_open", False),
                hours=data.get("hours", ()),
            )
            if data.get("holidays"):
                services.calendar_set_holidays(calendar=calendar, holidays=data["holidays"])
        calendar = self.calendar(calendar.pk)
        return Response(CalendarSerializer(calendar).data, status=status.HTTP_201_CREATED)


class CalendarDetailApi(SlaAdminMixin, GenericAPIView):
    serializer_class = CalendarSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(CalendarSerializer(self.calendar(pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        calendar = self.calendar(pk)
        serializer = CalendarSerializer(calendar, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            services.calendar_update(
                calendar=calendar,
                name=data.get("name"),
                timezone_name=data.get("timezone"),
                always_open=data.get("always_open"),
                hours=data.get("hours"),
            )
            if "holidays" in data:
                services.calendar_set_holidays(calendar=calendar, holidays=data["holidays"])
        return Response(CalendarSerializer(self.calendar(pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        services.calendar_delete(calendar=self.calendar(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarHolidayImportApi(SlaAdminMixin, GenericAPIView):
    """Add a country's public holidays for some years (the `holidays` package)."""

    serializer_class = HolidayImportSerializer

    @extend_schema(
        responses=inline_serializer("HolidayImport", {"added": serializers.IntegerField()})
    )
    def post(self, request: Request, pk: int) -> Response:
        calendar = self.calendar(pk)
        serializer = HolidayImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            added = services.calendar_import_holidays(
                calendar=calendar, **serializer.validated_data
            )
        return Response({"added": added})


# Policies ----------------------------------------------------------------------


MINUTES_MAX = services.TARGET_MINUTES_MAX  # checked by the service too, for every path


class TargetSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(Priority.choices)
    first_response_minutes = serializers.IntegerField(
        min_value=1, max_value=MINUTES_MAX, allow_null=True, default=None
    )
    next_response_minutes = serializers.IntegerField(
        min_value=1, max_value=MINUTES_MAX, allow_null=True, default=None
    )
    resolution_minutes = serializers.IntegerField(
        min_value=1, max_value=MINUTES_MAX, allow_null=True, default=None
    )


class PolicySerializer(serializers.ModelSerializer):
    calendar = serializers.IntegerField(source="calendar_id")
    targets = TargetSerializer(many=True, required=False)

    class Meta:
        model = SlaPolicy
        fields = ["id", "name", "calendar", "is_default", "targets", "updated_at"]
        read_only_fields = ["id", "updated_at"]

    def validate_targets(self, value: list[dict]) -> list[dict]:
        if any("priority" not in t for t in value):
            raise serializers.ValidationError("Each target names its priority.")
        priorities = [t["priority"] for t in value]
        if len(priorities) != len(set(priorities)):
            raise serializers.ValidationError("One target per priority.")
        return value


def _targets(items: list[dict]) -> dict:
    return {t["priority"]: {f"{m}_minutes": t.get(f"{m}_minutes") for m in METRICS} for t in items}


class PolicyListApi(SlaAdminMixin, GenericAPIView):
    serializer_class = PolicySerializer

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        return selectors.policies_list(organization=self.organization)

    @extend_schema(responses=PolicySerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PolicySerializer(page, many=True).data)

    @extend_schema(responses={201: PolicySerializer})
    def post(self, request: Request) -> Response:
        serializer = PolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        calendar = self.calendar(data["calendar_id"])
        policy = services.policy_create(
            organization=self.organization,
            name=data["name"],
            calendar=calendar,
            is_default=data.get("is_default", False),
            targets=_targets(data.get("targets", [])),
        )
        policy = self.policy(policy.pk)
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetailApi(SlaAdminMixin, GenericAPIView):
    serializer_class = PolicySerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(PolicySerializer(self.policy(pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        policy = self.policy(pk)
        serializer = PolicySerializer(policy, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        calendar = None
        if "calendar_id" in data:
            calendar = self.calendar(data["calendar_id"])
        with transaction.atomic():
            services.policy_update(
                policy=policy,
                name=data.get("name"),
                calendar=calendar,
                is_default=data.get("is_default"),
                targets=_targets(data["targets"]) if "targets" in data else None,
            )
        return Response(PolicySerializer(self.policy(pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        policy = self.policy(pk)
        with transaction.atomic():
            services.policy_delete(policy=policy)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Customer organizations ----------------------------------------------------------


class DomainsField(serializers.ListField):
    child = serializers.CharField(max_length=253)

    def to_representation(self, data) -> list[str]:
        return [d.domain for d in data.all()]


class CustomerSerializer(serializers.ModelSerializer):
    policy = serializers.IntegerField(source="policy_id", allow_null=True, required=False)
    domains = DomainsField(required=False, max_length=100)

    class Meta:
        model = CustomerOrganization
        fields = ["id", "name", "policy", "domains", "created_at"]
        read_only_fields = ["id", "created_at"]


class CustomerWriteMixin(SlaAdminMixin):
    def save(self, data: dict, customer: CustomerOrganization | None) -> CustomerOrganization:
        policy_id = data.get("policy_id", customer.policy_id if customer else None)
        policy = self.policy(policy_id) if policy_id else None
        domains = data.get("domains")
        if domains is None:
            domains = [d.domain for d in customer.domains.all()] if customer else []
        with transaction.atomic():
            saved = services.customer_save(
                organization=self.organization,
                name=data.get("name", customer.name if customer else ""),
                policy=policy,
                domains=domains,
                customer=customer,
            )
        return self.customer(saved.pk)


class CustomerListApi(CustomerWriteMixin, GenericAPIView):
    serializer_class = CustomerSerializer

    def get_queryset(self) -> QuerySet[CustomerOrganization]:
        return selectors.customers_list(organization=self.organization)

    @extend_schema(responses=CustomerSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(responses={201: CustomerSerializer})
    def post(self, request: Request) -> Response:
        serializer = CustomerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = self.save(serializer.validated_data, None)
        return Response(CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetailApi(CustomerWriteMixin, GenericAPIView):
    serializer_class = CustomerSerializer

    def get(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk)
        return Response(CustomerSerializer(customer).data)

    def patch(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk)
        serializer = CustomerSerializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(CustomerSerializer(self.save(serializer.validated_data, customer)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        self.customer(pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# Reporting -----------------------------------------------------------------------


class StateCountsSerializer(serializers.Serializer):
    on_track = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    breached = serializers.IntegerField()
    paused = serializers.IntegerField()


def _grouped(name: str) -> serializers.Serializer:
    return inline_serializer(
        f"SlaSummaryBy{name.title()}",
        {name: serializers.CharField(allow_null=True), **StateCountsSerializer().get_fields()},
        many=True,
    )


class SlaSummarySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    total = StateCountsSerializer()
    by_priority = _grouped("priority")
    by_queue = _grouped("queue")
    by_agent = _grouped("agent")


class SlaSummaryApi(OrganizationApiMixin, GenericAPIView):
    """Open tickets on track, at risk (past 75 % of a target), breached or paused.

    An agent kept to their queues counts the tickets they see only."""

    serializer_class = SlaSummarySerializer

    def get(self, request: Request) -> Response:
        summary = reports.sla_summary(organization=self.organization, member=self.membership)
        return Response(SlaSummarySerializer(summary).data)


class SlaMetricsRowSerializer(serializers.Serializer):
    group = serializers.CharField(allow_null=True, help_text="The agent, queue, priority or day.")
    tickets = serializers.IntegerField()
    first_response_minutes_median = serializers.FloatField(allow_null=True)
    first_response_minutes_p90 = serializers.FloatField(allow_null=True)
    resolution_minutes_median = serializers.FloatField(allow_null=True)
    resolution_minutes_p90 = serializers.FloatField(allow_null=True)
    breached = serializers.IntegerField()
    breach_rate = serializers.FloatField(allow_null=True)


class SlaMetricsQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(reports.METRIC_GROUPS, default="day")

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        today = timezone.localdate(timezone=self.context["zone"])
        for name, default in (("from", today - timedelta(days=29)), ("to", today)):
            raw = data.get(name)
            if not raw:
                values[name] = default
                continue
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                raise serializers.ValidationError({name: "Use a date, YYYY-MM-DD."}) from None
        return values


class SlaMetricsApi(OrganizationApiMixin, GenericAPIView):
    """Median and 90th percentile first-response and resolution times, and the breach rate,
    of tickets created in a period, grouped by agent, queue, priority, day, SLA tier or client
    company."""

    serializer_class = SlaMetricsRowSerializer
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("from", date, description="First day (default: 29 days ago)"),
            OpenApiParameter("to", date, description="Last day, included (default: today)"),
            OpenApiParameter("group_by", str, enum=list(reports.METRIC_GROUPS)),
        ],
        responses=SlaMetricsRowSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = SlaMetricsQuerySerializer(
            data=request.query_params, context={"zone": ZoneInfo(self.organization.timezone)}
        )
        query.is_valid(raise_exception=True)
        group_by = query.validated_data["group_by"]
        rows = reports.sla_metrics(
            organization=self.organization,
            since=query.validated_data["from"],
            until=query.validated_data["to"],
            group_by=group_by,
            member=self.membership,
        )
        return Response([{"group": row.pop(group_by), **row} for row in rows])


class CsatRowSerializer(serializers.Serializer):
    group = serializers.CharField(allow_null=True, help_text="The agent, queue or day.")
    ratings = serializers.IntegerField()
    average = serializers.FloatField(help_text="The average score, 1 to 5.")
    csat = serializers.FloatField(help_text="The share of ratings of 4 and 5.")
    low = serializers.IntegerField(help_text="How many ratings were 1 or 2.")


class CsatQuerySerializer(SlaMetricsQuerySerializer):
    group_by = serializers.ChoiceField(reports.CSAT_GROUP_CHOICES, default="day")


class CsatMetricsApi(OrganizationApiMixin, GenericAPIView):
    """Client ratings given in a period, grouped by the ticket's agent or queue, or by day."""

    serializer_class = CsatRowSerializer
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("from", date, description="First day (default: 29 days ago)"),
            OpenApiParameter("to", date, description="Last day, included (default: today)"),
            OpenApiParameter("group_by", str, enum=list(reports.CSAT_GROUP_CHOICES)),
        ],
        responses=CsatRowSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = CsatQuerySerializer(
            data=request.query_params, context={"zone": ZoneInfo(self.organization.timezone)}
        )
        query.is_valid(raise_exception=True)
        group_by = query.validated_data["group_by"]
        rows = reports.csat_metrics(
            organization=self.organization,
            since=query.validated_data["from"],
            until=query.validated_data["to"],
            group_by=group_by,
            member=self.membership,
        )
        return Response([{"group": row.pop(group_by), **row} for row in rows])
