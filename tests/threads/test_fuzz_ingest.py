"""Fuzz the parse-and-store path: no mail leaves the pipeline failed, whatever it holds."""

from hypothesis import given

from tests.mail import deliver
from tests.mailfuzz import fuzz_settings, hostile_mails
from threads.models import InboundMail


@fuzz_settings(examples=40, long_share=0.1)
@given(raw=hostile_mails())
def test_any_mail_is_stored_or_held_with_a_reason_never_failed(inbox, raw):
    mail = deliver(raw, recipient=inbox.address).inbound
    mail.refresh_from_db()
    assert mail.status != InboundMail.Status.FAILED, mail.error
    assert mail.status != InboundMail.Status.PENDING
    if mail.status == InboundMail.Status.QUARANTINED:
        assert mail.reason
