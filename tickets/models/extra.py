"""Tickets' smaller models: unsent replies, and the categories an organization files tickets in."""

from django.db import models
from django.utils import timezone

from threads.models import Thread
from tisket.models import Membership, Organization


class ReplyDraft(models.Model):
    """A reply not sent yet: one an assistant left for any agent to review (no owner), or the
    reply an agent is writing, saved as they type (theirs alone, restored when they come back).

    One of each per conversation: a new draft replaces the last; sending a reply uses up the
    sender's own and the assistant's. Nothing sends a draft by itself.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reply_drafts")
    owner = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The agent whose own unsent reply this is; blank: an assistant's, for anyone.",
    )
    body = models.TextField()
    cc = models.TextField(blank=True, db_default="")
    author = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=200, blank=True, help_text="e.g. assistant via token X")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["thread"], condition=models.Q(owner=None), name="reply_draft_shared_once"
            ),
            models.UniqueConstraint(
                fields=["thread", "owner"],
                condition=models.Q(owner__isnull=False),
                name="reply_draft_own_once",
            ),
        ]

    def __str__(self) -> str:
        return f"draft on {self.thread_id}"


class TicketCategory(models.Model):
    """One of the organization's ticket categories (billing, access, hardware…), kept by admins;
    a ticket's category names one. Separate from the knowledge base's categories."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "ticket categories"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="ticket_category_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name
