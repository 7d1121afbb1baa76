"""Knowledge base: categories, articles, their revisions, votes, files and the deflection ledger.

Who may read what is decided by `kb.selectors` from `visibility` and `min_role`, for the
article and its categories alike; templates and views never decide it.
"""

from django.db import models
from django.utils import timezone

from tisket.models import Membership, Organization, Role


class Visibility(models.TextChoices):
    """Who may read, widest first."""

    PUBLIC = "public", "Public (anyone)"
    CLIENTS = "clients", "Clients (a signed link or the portal) and members"
    MEMBERS = "members", "Members"
    ROLE = "role", "Members from a minimum role"


class ArticleState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


HEX_COLOUR = r"^#[0-9a-fA-F]{6}\Z"


class HelpCentre(models.Model):
    """An organization's public help centre: its title and branding."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="help_centre"
    )
    title = models.CharField(max_length=200, blank=True, help_text="Defaults to '<name> Help'.")
    colour = models.CharField(max_length=7, default="#2f6fde")
    logo = models.ForeignKey(
        "KbFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggest_in_acknowledgements = models.BooleanField(
        default=True, help_text="Suggest up to three public articles in acknowledgement mail."
    )

    def __str__(self) -> str:
        return self.title or f"{self.organization.name} Help"


class Category(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="kb_categories"
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sections",
        help_text="One level only: a section of a top category.",
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    min_role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="kb_category_slug_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="kb_articles"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120)
    body = models.TextField(blank=True, help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False)
    excerpt = models.CharField(max_length=300, blank=True)
    tags = models.JSONField(default=list, blank=True)
    locale = models.CharField(max_length=12, default="en")
    translation_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="translations",
        help_text="The original article this one translates.",
    )
    state = models.CharField(max_length=10, choices=ArticleState.choices, default="draft")
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When it goes live; in the future: scheduled."
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    min_role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    position = models.PositiveIntegerField(default=0)
    revision_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Semantic search: the model's vector of title and body, as little-endian float32
    # bytes; embedded_revision says which revision it was computed from (stale otherwise).
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedded_revision = models.PositiveIntegerField(default=0, editable=False)
    view_count = models.PositiveIntegerField(default=0, editable=False)
    helpful_yes = models.PositiveIntegerField(default=0, editable=False)
    helpful_no = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["position", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="kb_article_slug_unique")
        ]
        indexes = [models.Index(fields=["organization", "state", "published_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        return (
            self.state == ArticleState.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )


class ArticleRevision(models.Model):
    """The article as one save left it; restoring one saves a new revision."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    excerpt = models.CharField(max_length=300, blank=True)
    tags = models.JSONField(default=list, blank=True)
    category_id_at = models.IntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=ArticleState.choices)
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    min_role = models.CharField(max_length=16, choices=Role.choices)
    author = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article} r{self.number}"


class EditorGrant(models.Model):
    """A member below admin who may write the knowledge base (admins always may)."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="kb_editor_grant"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.membership)


class KbFile(models.Model):
    """An image or file used by articles, in the attachment storage."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="files"
    )
    file = models.FileField(upload_to="kb/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


class Feedback(models.Model):
    """A reader's "Was this helpful?" answer."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.article}: {'yes' if self.helpful else 'no'}"


class LedgerKind(models.TextChoices):
    VIEW = "view", "Article viewed"
    SEARCH = "search", "Search"
    SHOWN = "shown", "Suggestion shown"
    CLICKED = "clicked", "Suggestion clicked"
    RESOLVED = "resolved", "Conversation resolved by an article"


class LedgerPlace(models.TextChoices):
    HELP_CENTRE = "help_centre", "Help centre"
    AGENT = "agent", "Agent's Knowledge panel"
    ACK_MAIL = "ack_mail", "Acknowledgement mail"
    CLIENT = "client", "Client's pages"
    API = "api", "API"


class LedgerEntry(models.Model):
    """The deflection ledger: what was suggested, seen, clicked and what it resolved.

    `conversation_id` is a thread's id, kept as a plain number: the knowledge base sits
    below the threads app and never imports it.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=LedgerKind.choices)
    place = models.CharField(max_length=12, choices=LedgerPlace.choices)
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.CASCADE, related_name="ledger"
    )
    conversation_id = models.BigIntegerField(null=True, blank=True)
    query = models.CharField(max_length=200, blank=True)
    results = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "kind", "created_at"]),
            models.Index(fields=["article", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.article_id or self.query}"


class EmbeddingIndex(models.Model):
    """A counter per organization that moves whenever an article's embedding changes.

    Search processes keep the organization's vectors in memory and reload them when the
    counter they loaded at is no longer the current one.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.organization} v{self.version}"
