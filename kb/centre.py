"""The help centre's settings, the files articles show, and who may edit the knowledge base."""

import hashlib
import re

from django.conf import settings
from django.core.files.base import ContentFile

from kb.models import Article, EditorGrant, HelpCentre, KbFile
from kb.services import KbError, check_editor
from tisket.errors import NotAllowedError
from tisket.lib.files import safe_filename, sniff_content_type
from tisket.models import Membership, Organization, Role

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}\Z")


def editor_grant(*, membership: Membership, actor: Membership | None) -> EditorGrant:
    """Let a member below admin edit the knowledge base."""
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise NotAllowedError("Only admins grant the knowledge-base editor permission.")
    grant, _ = EditorGrant.objects.get_or_create(membership=membership)
    return grant


def editor_revoke(*, membership: Membership, actor: Membership | None) -> None:
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise NotAllowedError("Only admins revoke the knowledge-base editor permission.")
    EditorGrant.objects.filter(membership=membership).delete()


def kb_file_upload(
    *,
    organization: Organization,
    actor: Membership | None,
    name: str,
    content: bytes,
    article: Article | None = None,
    image_only: bool = False,
) -> KbFile:
    """Store an image or file for articles, typed by its bytes, size-capped."""
    check_editor(actor)
    limit = settings.TISKET_KB_FILE_MAX_BYTES
    if len(content) > limit:
        raise KbError(f"A file is at most {limit // (1024 * 1024)} MB.")
    if not content:
        raise KbError("The file is empty.")
    filename = safe_filename(name)
    content_type = sniff_content_type(content, filename=filename)
    if image_only and content_type not in IMAGE_TYPES:
        raise KbError("Upload a PNG, JPEG, GIF or WebP image.")
    digest = hashlib.sha256(content).hexdigest()[:16]
    kb_file = KbFile(
        organization=organization,
        article=article,
        filename=filename,
        content_type=content_type,
        size=len(content),
        uploaded_by=actor if actor is not None and not getattr(actor, "_acting", False) else None,
    )
    kb_file.file.save(f"{digest}-{filename}", ContentFile(content), save=False)
    kb_file.save()
    return kb_file


def help_centre_update(
    *,
    organization: Organization,
    actor: Membership | None,
    title: str | None = None,
    colour: str | None = None,
    logo: KbFile | None = None,
    suggest_in_acknowledgements: bool | None = None,
) -> HelpCentre:
    """Change the help centre's title, colour, logo or acknowledgement suggestions."""
    if actor is not None and not actor.has_role(Role.ADMIN):
        raise NotAllowedError("Only admins change the help centre.")
    centre, _ = HelpCentre.objects.get_or_create(organization=organization)
    if title is not None:
        centre.title = " ".join(title.split())[:200]
    if colour is not None:
        if not COLOUR_RE.match(colour):
            raise KbError("A colour is written #rrggbb.")
        centre.colour = colour.lower()
    if logo is not None:
        if logo.organization_id != organization.pk or logo.content_type not in IMAGE_TYPES:
            raise KbError("The logo is an image uploaded to this knowledge base.")
        centre.logo = logo
    if suggest_in_acknowledgements is not None:
        centre.suggest_in_acknowledgements = suggest_in_acknowledgements
    centre.save()
    return centre
