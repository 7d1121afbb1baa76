"""The inbound log (admins): every mail received, what became of it, and why."""

from django import forms
from django.db.models import Q, Subquery
from django.http import HttpRequest, HttpResponse

from inboxes.selectors import inboxes_list
from interface.settings_pages.common import admin_view, page
from threads.models import InboundMail
from threads.selectors import inbound_log
from tisket.lib.params import id_param

PAGE_SIZE = 50


class InboundFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any"), *InboundMail.Status.choices]
    )
    inbox = forms.TypedChoiceField(label="Inbox", required=False, coerce=int, empty_value=None)
    sender = forms.CharField(label="From", required=False, max_length=320)

    def __init__(self, *args, inboxes: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["inbox"].choices = [("", "Any"), *((i.pk, i.address) for i in inboxes)]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"status": data["status"], "inbox": data["inbox"], "sender": data["sender"]}


@admin_view
def inbound_log_page(request: HttpRequest) -> HttpResponse:
    """Newest first, a page at a time (keyset: the page after a mail starts below it)."""
    inboxes = list(inboxes_list(organization=request.organization).order_by("name"))
    form = InboundFilterForm(request.GET or None, inboxes=inboxes)
    mails = inbound_log(organization=request.organization, **form.filters()).order_by(
        "-received_at", "-id"
    )
    before = id_param(request.GET.get("before"))
    if before is not None:
        at = Subquery(InboundMail.objects.filter(pk=before).values("received_at")[:1])
        mails = mails.filter(Q(received_at__lt=at) | Q(received_at=at, pk__lt=before))
    rows = list(mails.defer("raw_data", "error", "esp_stripped_text")[: PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "mails": rows[:PAGE_SIZE],
        "older": rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None,
        "query": query.urlencode(),
    }
    return page(request, "settings/inbound.html", context, section="settings:inbound")
