"""REST API of macros, and applying one to a ticket."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import macros
from tickets.api.common import TicketsApiMixin
from tickets.api.tickets import TicketSerializer
from tickets.models import Macro, validate_macro_body
from tisket.models import Role


class MacroSerializer(serializers.ModelSerializer):
    actions = serializers.DictField(
        required=False,
        default=dict,
        help_text='e.g. {"status": "waiting_on_customer", "priority": "high", "queue": 3, '
        '"assignee": 12, "tags_add": ["billing"], "tags_remove": ["new"]}',
    )

    class Meta:
        model = Macro
        fields = ["id", "name", "body", "actions", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"body": {"validators": [validate_macro_body]}}


class MacroListApi(TicketsApiMixin, GenericAPIView):
    serializer_class = MacroSerializer
    write_role = Role.SUPERVISOR

    @extend_schema(responses=MacroSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(Macro.objects.filter(organization=self.organization))
        return self.get_paginated_response(MacroSerializer(page, many=True).data)

    @extend_schema(request=MacroSerializer, responses={201: MacroSerializer})
    def post(self, request: Request) -> Response:
        serializer = MacroSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        macro = macros.macro_save(
            organization=self.organization, actor=self.membership, **serializer.validated_data
        )
        return Response(MacroSerializer(macro).data, status=status.HTTP_201_CREATED)


class MacroDetailApi(TicketsApiMixin, GenericAPIView):
    serializer_class = MacroSerializer
    write_role = Role.SUPERVISOR

    def get(self, request: Request, pk: int) -> Response:
        return Response(MacroSerializer(self.macro(pk)).data)

    @extend_schema(request=MacroSerializer, responses=MacroSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        macro = self.macro(pk)
        serializer = MacroSerializer(macro, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {"name": macro.name, "body": macro.body, "actions": macro.actions}
        data.update(serializer.validated_data)
        macro = macros.macro_save(
            organization=self.organization, actor=self.membership, macro=macro, **data
        )
        return Response(MacroSerializer(macro).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        self.macro(pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MacroApplyRequestSerializer(serializers.Serializer):
    apply_now = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: apply the actions to the ticket at once (the behaviour before "
        "pending actions). Default false: nothing changes now; send the reply with "
        "`macro` set to this macro's id and its actions apply then, as in the browser.",
    )


class MacroAppliedSerializer(serializers.Serializer):
    ticket = TicketSerializer(help_text="The ticket: unchanged unless apply_now was true")
    reply = serializers.CharField(help_text="The macro's reply text, rendered for this ticket")
    macro = serializers.IntegerField(help_text="Pass it as `macro` with the reply")
    pending_actions = serializers.DictField(
        help_text="The actions that apply when the reply is sent with `macro`; {} once applied"
    )
    pending_text = serializers.CharField(help_text="The same in words, as the reply box shows")
    applied = serializers.BooleanField(help_text="Whether the actions were applied now")


class TicketMacroApplyApi(TicketsApiMixin, GenericAPIView):
    """Put a macro in a reply: its text rendered for the ticket, and its actions pending until
    the reply is sent with `macro` (POST /threads/{reference}/messages/). Nothing on the ticket
    changes here, unless apply_now is true (the earlier behaviour, kept for scripts that want
    it)."""

    serializer_class = MacroAppliedSerializer

    @extend_schema(
        request=MacroApplyRequestSerializer,
        responses=MacroAppliedSerializer,
        description="Fill a reply with the macro; its actions wait for the reply unless "
        "apply_now is true. Since pending actions, a plain POST no longer changes the ticket.",
    )
    def post(self, request: Request, reference: str, pk: int) -> Response:
        ticket = self.ticket(reference)
        options = MacroApplyRequestSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        macro = self.macro(pk)
        if options.validated_data["apply_now"]:
            result = macros.macro_apply(macro=macro, ticket=ticket, actor=self.membership)
            reply, pending, applied = result.reply, {}, True
            ticket = self.ticket(reference)
        else:
            reply = macros.macro_render(macro=macro, ticket=ticket, agent=self.membership)
            pending, applied = dict(macro.actions or {}), False
        return Response(
            {
                "ticket": TicketSerializer(ticket).data,
                "reply": reply,
                "macro": macro.pk,
                "pending_actions": pending,
                "pending_text": macros.macro_pending_words(macro=macro) if pending else "",
                "applied": applied,
            }
        )
