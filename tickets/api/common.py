"""The shared base of the tickets API's views: the organization's objects, by id or reference."""

from django.http import Http404
from rest_framework import serializers

from inboxes.models import Inbox
from threads.selectors import thread_get
from tickets import selectors, visibility
from tickets.models import Macro, Queue, Ticket
from tisket.api_auth import OrganizationApiMixin
from tisket.models import Membership


class TicketsApiMixin(OrganizationApiMixin):
    def member(self, pk: int | None) -> Membership | None:
        if pk is None:
            return None
        member = Membership.objects.select_related("user").filter(
            organization=self.organization, pk=pk
        )
        if not member:
            raise serializers.ValidationError({"assignee": "No such member."})
        return member[0]

    def queue(self, pk: int | None) -> Queue | None:
        if pk is None:
            return None
        try:
            return Queue.objects.get(organization=self.organization, pk=pk)
        except Queue.DoesNotExist:
            raise serializers.ValidationError({"queue": "No such queue."}) from None

    def ticket(self, reference: str) -> Ticket:
        return selectors.ticket_get(
            organization=self.organization, reference=reference, viewer=self.membership
        )

    def other_ticket(self, reference: str) -> Ticket:
        """A ticket named in the request body: 400 (not 404) when it is not there."""
        try:
            return self.ticket(reference)
        except Http404:
            raise serializers.ValidationError({"ticket": "No such ticket."}) from None

    def macro(self, pk: int) -> Macro:
        try:
            return Macro.objects.get(organization=self.organization, pk=pk)
        except Macro.DoesNotExist:
            raise Http404("No such macro.") from None

    def inboxes(self, ids: list[int]) -> list[Inbox]:
        inboxes = list(Inbox.objects.filter(organization=self.organization, pk__in=ids))
        if len(inboxes) != len(set(ids)):
            raise serializers.ValidationError({"inboxes": "No such inbox."})
        return inboxes

    def thread(self, reference: str):
        try:
            return thread_get(
                organization=self.organization,
                reference=reference,
                scope=visibility.thread_scope(self.membership),
            )
        except Http404:
            raise serializers.ValidationError({"thread": "No such thread."}) from None
