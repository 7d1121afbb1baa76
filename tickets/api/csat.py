"""The client's rating of a resolution, through its signed link (no token)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from tickets import csat
from tickets.models import Ticket


class RatingSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class RatingLinkSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="The ticket's reference")
    subject = serializers.CharField()
    rated = serializers.BooleanField(help_text="Whether this resolution was rated already")


class CsatApi(GenericAPIView):
    """A client rates a resolution through the signed link of their mail (no login)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]
    serializer_class = RatingLinkSerializer

    def _ticket(self, token: str) -> tuple[Ticket, int]:
        try:
            return csat.csat_ticket(token=token)
        except csat.RatingLinkError as exc:
            raise Http404(str(exc)) from None

    @extend_schema(auth=[], responses=RatingLinkSerializer)
    def get(self, request: Request, token: str) -> Response:
        ticket, resolution = self._ticket(token)
        rated = ticket.ratings.filter(resolution=resolution).exists()
        return Response({"ticket": ticket.reference, "subject": ticket.subject, "rated": rated})

    @extend_schema(auth=[], request=RatingSerializer, responses={201: RatingSerializer})
    def post(self, request: Request, token: str) -> Response:
        self._ticket(token)
        serializer = RatingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rating = csat.csat_record(token=token, **serializer.validated_data)
        return Response({"score": rating.score, "comment": rating.comment}, status=201)
