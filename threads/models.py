"""Threads (email conversations), their messages and attachments, and the inbound log."""

import uuid

from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from inboxes.models import Inbox
from tisket.models import Membership, Organization


class Thread(models.Model):
    """One email conversation with a client, referenced as THD-<ORGCODE>-<SEQ>."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="threads")
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="threads")
    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=40, unique=True)
    subject = models.CharField(max_length=998, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    client_email = models.CharField(max_length=320, blank=True)
    client_name = models.CharField(max_length=200, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)  # the client's latest mail
    client_replied_last = models.BooleanField(default=False)  # and no agent has answered it
    # Part of every signed client link (threads.client_access): bumping it revokes them all.
    client_link_version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="thread_number_unique")
        ]
        indexes = [
            models.Index(fields=["organization", "-updated_at", "-id"], name="thread_org_updated"),
            models.Index(
                fields=["organization", "status", "-updated_at", "-id"], name="thread_org_status"
            ),
            models.Index(
                fields=["organization", "inbox", "-updated_at", "-id"], name="thread_org_inbox"
            ),
            # The queue's default: unresolved work, latest activity first, read in order.
            models.Index(
                fields=["organization", "-updated_at", "-id"],
                name="thread_org_unresolved",
                condition=models.Q(status__in=["open", "in_progress"]),
            ),
            # A client's conversations, found by their address (search, history).
            models.Index(fields=["organization", "client_email"], name="thread_org_client"),
            # Text search has a trigram index too, on PostgreSQL (migration 0008).
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"


def thread_reference(*, code: str, number: int) -> str:
    return f"THD-{code}-{number:03d}"


class ThreadSearch(models.Model):
    """A conversation's searchable words (its mails and notes), senders and recipients, folded;
    see threads.search."""

    thread = models.OneToOneField(
        Thread, primary_key=True, on_delete=models.CASCADE, related_name="search"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(blank=True)
    # `name <address>` entries, once each: who wrote its mails, whom they were sent to.
    senders = models.TextField(blank=True, default="", db_default="")
    recipients = models.TextField(blank=True, default="", db_default="")

    def __str__(self) -> str:
        return f"search of {self.thread_id}"


class Participant(models.Model):
    """An address allowed to write into a thread."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="participants")
    email = models.CharField(max_length=320)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        # The address as the mail wrote it; addresses compare case-insensitively.
        constraints = [
            models.UniqueConstraint(
                models.F("thread"), Lower("email"), name="participant_unique_address"
            )
        ]
        indexes = [
            # A client's conversations, found by their address (`email__iexact`: UPPER).
            models.Index(Upper("email"), name="participant_email_upper"),
        ]

    def __str__(self) -> str:
        return self.email


class Message(models.Model):
    """One mail of a thread, inbound from a client or outbound from the desk."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    from_email = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "email": ...}]')
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    html = models.TextField(blank=True, help_text="Sanitized.")
    text = models.TextField(blank=True)
    visible_text = models.TextField(blank=True, help_text="The new part, without quoted history.")
    message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    # sha256 of the Message-ID (or of the content when there is none): unique per
    # organization, so one mail is stored once however often it arrives.
    dedupe_key = models.CharField(max_length=64)
    # sha256 of the decoded content: a Message-ID seen again with other content is
    # another mail (mailers reuse IDs), not a duplicate. Blank for mail of our own.
    content_key = models.CharField(max_length=64, blank=True)
    # dedupe key of the Message-ID this mail answers (its first In-Reply-To): when the
    # mail it answers arrives after it, that mail finds this one's thread.
    parent_key = models.CharField(max_length=64, blank=True)
    # Where the sender came from when From could not say (Reply-To, Sender, ...).
    sender_note = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    automated_reason = models.CharField(max_length=200, blank=True)
    # The agent's submission (the reply box's, or an API client's Idempotency-Key):
    # sent twice, it is stored and mailed once.
    idempotency_key = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Outbound only: when a client first opened the conversation with this message in it
    # (the portal or their signed link), and who; the agent sees "read by the client".
    client_read_at = models.DateTimeField(null=True, blank=True)
    client_read_by = models.CharField(max_length=320, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "dedupe_key"], name="message_dedupe"),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="message_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["thread", "created_at", "id"], name="message_thread_order"),
            models.Index(
                fields=["organization", "parent_key"],
                condition=~models.Q(parent_key=""),
                name="message_parent_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.from_email}: {self.subject}"

    @property
    def is_automated(self) -> bool:
        return bool(self.automated_reason)


def attachment_key(instance: "Attachment", filename: str) -> str:
    # Our own key, never the sender's file name: no path tricks, no collisions,
    # and every object of an organization under its own prefix. Content with a
    # known digest is stored once per organization (threads.services).
    if instance.sha256:
        return attachment_content_key(instance.organization_id, instance.sha256)
    now = timezone.now()
    return f"org-{instance.organization_id}/attachments/{now:%Y/%m}/{uuid.uuid4().hex}"


def attachment_content_key(organization_id: int, sha256: str) -> str:
    return f"org-{organization_id}/attachments/sha256/{sha256[:2]}/{sha256}"


class Attachment(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_key, max_length=300, blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150, help_text="Sniffed from the content.")
    declared_type = models.CharField(max_length=150, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    content_id = models.CharField(max_length=255, blank=True)
    is_inline = models.BooleanField(default=False)
    omitted_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the content was not kept (e.g. too large)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


def raw_mail_key(instance: "InboundMail", filename: str) -> str:
    now = timezone.now()
    return f"inbound/{now:%Y/%m/%d}/{uuid.uuid4().hex}.eml"


class InboundMail(models.Model):
    """The inbound log: every mail received, its raw bytes, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DUPLICATE = "duplicate", "Duplicate"
        QUARANTINED = "quarantined", "Quarantined"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded"

    source = models.CharField(max_length=40, help_text="anymail:<esp>, raw, imap, import")
    envelope_recipient = models.CharField(max_length=998, blank=True)
    raw_sha256 = models.CharField(max_length=64)
    raw_size = models.PositiveIntegerField(default=0)
    # Small mails stay in the row (one write at the edge); large ones go to storage.
    raw_data = models.BinaryField(null=True, blank=True)
    raw_file = models.FileField(upload_to=raw_mail_key, max_length=300, blank=True)
    esp_stripped_text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    # Which rule held a quarantined mail (SenderRule.Skips, or another HeldBy):
    # what an "always allow" of its sender may skip.
    held_by = models.CharField(max_length=20, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs that finished")
    # A worker claims a mail in a committed UPDATE before its run; the run's own
    # commit clears the claim. Claims left behind are runs that never finished:
    # the worker died on this mail (threads.ingest.claims).
    claims = models.PositiveSmallIntegerField(
        default=0, help_text="Runs begun since the last one that finished"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    inbox = models.ForeignKey(
        Inbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    thread = models.ForeignKey(
        Thread, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_email = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    message_id_header = models.CharField("Message-ID", max_length=998, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "inbound mail"
        constraints = [
            models.UniqueConstraint(
                fields=["raw_sha256", "envelope_recipient"], name="inbound_mail_once"
            )
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received"),
            models.Index(
                fields=["organization", "status", "-received_at"], name="inbound_org_status"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.source} {self.status}"

    def raw_bytes(self) -> bytes:
        if self.raw_data is not None:
            return bytes(self.raw_data)
        with self.raw_file.open("rb") as handle:
            return handle.read()


class HeldBy(models.TextChoices):
    """The rules that hold a mail in quarantine."""

    STRANGER = "stranger", "Sender not in the conversation"
    UNAUTHENTICATED = "unauthenticated", "Member's mail not authenticated"
    NO_SENDER = "no_sender", "No trustworthy sender"
    BLOCKED = "blocked", "Sender blocked"
    MOVED = "moved", "Address moved to another organization"


class SenderRule(models.Model):
    """An organization's rule for mail from one address or a whole domain.

    Block: its mail is held (or refused) whatever it answers. Allow: its mail
    skips the stranger rule (a sender outside the conversation it answers). No
    rule skips authentication: a From header alone never makes mail the desk's.
    """

    class Kind(models.TextChoices):
        BLOCK = "block", "Block"
        ALLOW = "allow", "Always allow"

    class Action(models.TextChoices):
        QUARANTINE = "quarantine", "Hold in quarantine"
        REFUSE = "refuse", "Refuse"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # "jane@example.com" for an address, "@example.com" for a whole domain.
    pattern = models.CharField(max_length=320)
    action = models.CharField(
        max_length=10, choices=Action.choices, blank=True, help_text="Of a block."
    )
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pattern", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "pattern"], name="sender_rule_one_per_pattern"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pattern}"

    @property
    def is_domain(self) -> bool:
        return self.pattern.startswith("@")


class OutboundMail(models.Model):
    """The outbox: one mail to send, written in the transaction that causes it.

    Its Message-ID is fixed when the row is written. The sender claims a row
    by moving it to `sending` in a committed transaction before it talks to the
    transport, so a row the transport may have accepted is never sent again,
    whatever crashes afterwards.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        AUTO_ACK = "auto_ack", "Auto-acknowledgement"
        REPLY = "reply", "Reply"
        NOTIFICATION = "notification", "Notification to a member"
        STATUS = "status", "Status update to a client"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    inbox = models.ForeignKey(
        Inbox,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Sent from this inbox; blank: from the installation's address.",
    )
    thread = models.ForeignKey(Thread, null=True, on_delete=models.CASCADE, related_name="outbox")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Which frame and wording it is sent in (tisket.branding.types); blank: its kind's.
    mail_type = models.CharField(max_length=20, blank=True)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id_header = models.CharField("Message-ID", max_length=998, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(
        blank=True, help_text="What the organization is told: the class of the failure."
    )
    error_detail = models.TextField(
        blank=True, help_text="The whole error, for the installation's admins only."
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    esp_message_id = models.CharField(
        max_length=200,
        blank=True,
        db_index=True,
        help_text="The ESP's id, for its tracking events.",
    )
    delivery_event = models.CharField(
        max_length=20, blank=True, help_text="The ESP's last word: delivered, bounced, complained…"
    )
    delivery_detail = models.TextField(blank=True)
    delivery_at = models.DateTimeField(null=True, blank=True)
    earlier_attempts = models.JSONField(
        default=list,
        blank=True,
        help_text="What became of this mail before it was sent again, oldest first.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound mail"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["inbox", "kind", "created_at"], name="outbox_inbox_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} <{self.message_id_header}>"


class Suppression(models.Model):
    """An address no automatic mail of one organization goes to for a while: its mail to
    the address bounced hard, or the recipient complained of it."""

    # Each organization's own: one tenant's bounces never silence another's mail,
    # nor tell it who the other mails.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=320)
    reason = models.CharField(max_length=200)
    until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "address"], name="suppression_org_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} until {self.until:%Y-%m-%d}"


class ClientSignIn(models.Model):
    """A one-time link that signs a client in to their organization's portal.

    Only the token's SHA-256 is kept. It works once (`used_at`, set by a
    conditional UPDATE) and until `expires_at`.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=320)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "client sign-in link"

    def __str__(self) -> str:
        return f"{self.email} until {self.expires_at:%Y-%m-%d %H:%M}"


class ClientSession(models.Model):
    """A client signed in to one organization's portal; their cookie holds the key.

    Apart from members' logins: it opens the conversations of one address in one
    organization and nothing else. Only the key's SHA-256 is kept.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=320)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "client portal session"

    def __str__(self) -> str:
        return f"{self.email} since {self.created_at:%Y-%m-%d %H:%M}"
