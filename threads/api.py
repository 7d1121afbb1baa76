"""API of the inbound pipeline's own actions: fetching an inbox's mailbox now."""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from inboxes import imap, selectors
from inboxes.api import MailboxResultSerializer
from threads.mailboxes import mailbox_poll
from tisket.api_auth import OrganizationApiMixin
from tisket.models import Role


class InboxFetchNowApi(OrganizationApiMixin, GenericAPIView):
    """Poll the inbox's IMAP mailbox now instead of at the next minute."""

    serializer_class = MailboxResultSerializer
    write_role = Role.ADMIN

    @extend_schema(request=None, responses=MailboxResultSerializer)
    def post(self, request: Request, pk: int) -> Response:
        inbox = selectors.inbox_get(organization=self.organization, pk=pk)
        if not inbox.imap_host:
            return Response({"ok": False, "message": "This inbox has no IMAP mailbox."})
        try:
            fetched = mailbox_poll(inbox=inbox)
        except imap.MailboxError as exc:
            return Response({"ok": False, "message": str(exc), "fetched": 0})
        return Response(
            {"ok": True, "message": f"Fetched {fetched} new mail(s).", "fetched": fetched}
        )
