"""The client portal's sign-in and sessions, and what a client has read.

A client asks for a sign-in link on their organization's portal; the link works
once, for TISKET_PORTAL_SIGN_IN_MINUTES, and opens a session of its own (not a
member's login) that sees the conversations of that address in that
organization. Any valid address may ask, so that a new client can open a
request on the web; the page answers the same whatever the address, and the
requests are limited per address and per email address in database rows.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from inboxes.selectors import organization_addresses
from kb.selectors import help_centre_for
from threads.client_access import ClientAccess
from threads.company import company_client_filter, company_domains, company_sees
from threads.models import ClientSession, ClientSignIn, Message, Participant, Thread
from threads.outbound.members import address_mail
from tisket.errors import TisketError
from tisket.lib.addresses import address_is_valid, address_normalize
from tisket.lib.requests import address_block
from tisket.models import LoginThrottle, Membership, Organization
from tisket.throttle import rate_take

MAX_KEY_LENGTH = 100
# A session's last use is written at most this often: not a write on every page.
SEEN_EVERY = timedelta(minutes=5)


class PortalLinkError(TisketError):
    """A sign-in link that is not one of ours."""

    status_code = 404


class PortalLinkGoneError(PortalLinkError):
    """A sign-in link used already, or expired."""

    status_code = 410


class PortalAddressError(TisketError):
    """Not an email address."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def portal_sign_in_allowed(*, email: str, address: str) -> bool:
    """Count one sign-in mail asked for the email address from this client address.

    Counted whether the email address is known or not, so the answer tells nothing.
    The tight limit on one email address counts the asks from one client address:
    someone else asking for a victim's links, from their own address, does not stop
    the victim getting one. A looser limit over every client address keeps many
    addresses from flooding one mailbox.
    """
    address = address_block(address)  # an IPv6 address's /64: one host holds them all
    limits = (
        (LoginThrottle.Scope.PORTAL_ADDRESS, address, settings.TISKET_PORTAL_SIGN_INS_PER_ADDRESS),
        (
            LoginThrottle.Scope.PORTAL_EMAIL,
            f"{email} {address}",
            settings.TISKET_PORTAL_SIGN_INS_PER_EMAIL,
        ),
        (
            LoginThrottle.Scope.PORTAL_EMAIL_ALL,
            email,
            settings.TISKET_PORTAL_SIGN_INS_PER_EMAIL_ALL,
        ),
    )
    return all(
        rate_take(scope=scope, value=value, limit=limit, window=3600)
        for scope, value, limit in limits
    )


def portal_email_clean(email: str) -> str:
    """The address a client typed, normalized; PortalAddressError when it is none."""
    email = address_normalize(email or "")
    if not address_is_valid(email):
        raise PortalAddressError("Enter your email address, like name@example.com.")
    return email


def portal_sign_in_request(*, organization: Organization, email: str) -> ClientSignIn | None:
    """Mail a one-time sign-in link to a client; None for an address that gets no mail.

    The organization's own addresses and its members get none (members sign in
    to the desk). The caller answers the same either way, and limits the asks first.
    """
    email = portal_email_clean(email)
    own = organization_addresses(organization_id=organization.pk)
    members = Membership.objects.filter(organization=organization, user__email__iexact=email)
    if email in own or members.exists():
        return None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    minutes = settings.TISKET_PORTAL_SIGN_IN_MINUTES
    row = ClientSignIn.objects.create(
        organization=organization,
        email=email,
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    path = reverse("portal:sign-in-confirm", kwargs={"org_slug": organization.slug, "token": token})
    context = {
        "title": str(help_centre_for(organization=organization)),
        "minutes": minutes,
        "link": f"{settings.SITE_URL.rstrip('/')}{path}",
    }
    subject = render_to_string("portal/emails/sign_in_subject.txt", context)
    text = render_to_string("portal/emails/sign_in_body.txt", context)
    address_mail(
        organization_id=organization.pk,
        to=email,
        subject=" ".join(subject.split()),
        text=text.strip() + "\n",
        mail_type="sign_in",
    )
    return row


def portal_sign_in_check(*, organization: Organization, token: str) -> ClientSignIn:
    """The sign-in link, if it would still sign in; PortalLinkError otherwise. Uses nothing."""
    if not token or len(token) > MAX_KEY_LENGTH:
        raise PortalLinkError("This sign-in link is not valid.")
    row = ClientSignIn.objects.filter(organization=organization, token_hash=_digest(token)).first()
    if row is None:
        raise PortalLinkError("This sign-in link is not valid.")
    if row.used_at is not None or row.expires_at <= timezone.now():
        raise PortalLinkGoneError("This sign-in link was used already, or has expired.")
    return row


def portal_sign_in_redeem(*, organization: Organization, token: str) -> tuple[ClientSession, str]:
    """Use a sign-in link: once, before it expires. Returns the new session and its key."""
    row = portal_sign_in_check(organization=organization, token=token)
    now = timezone.now()
    # The conditional UPDATE is the single use: of two tabs posting it at once, one wins.
    taken = ClientSignIn.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not taken:
        raise PortalLinkGoneError("This sign-in link was used already, or has expired.")
    key = secrets.token_urlsafe(32)
    session = ClientSession.objects.create(
        organization=organization,
        email=row.email,
        key_hash=_digest(key),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.TISKET_PORTAL_SESSION_DAYS),
    )
    return session, key


def portal_session_open(*, organization: Organization, key: str) -> ClientSession | None:
    """The live session this key opens in this organization; its idle expiry moves ahead."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    now = timezone.now()
    session = ClientSession.objects.filter(
        organization=organization, key_hash=_digest(key), ended_at__isnull=True, expires_at__gt=now
    ).first()
    if session is not None:
        session.organization = organization  # the caller has it: no query for it again
    if session is not None and session.last_seen_at <= now - SEEN_EVERY:
        session.last_seen_at = now
        session.expires_at = now + timedelta(days=settings.TISKET_PORTAL_SESSION_DAYS)
        session.save(update_fields=["last_seen_at", "expires_at"])
    return session


def portal_session_end(*, session: ClientSession) -> None:
    """Sign the client out: the key opens nothing any more."""
    ClientSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


def portal_threads(*, session: ClientSession) -> QuerySet[Thread]:
    """The conversations of the session's address in its organization, and those of its
    client company where the organization shares them (threads.company)."""
    own = Q(pk__in=Participant.objects.filter(email__iexact=session.email).values("thread_id"))
    domains = company_domains(organization=session.organization, email=session.email)
    if domains:
        own |= company_client_filter(domains)
    return Thread.objects.filter(own, organization_id=session.organization_id)


def portal_access(*, session: ClientSession, reference: str) -> ClientAccess | None:
    """The session's address on one of its conversations, or None (not theirs, or none)."""
    thread = (
        Thread.objects.select_related("inbox__organization", "organization")
        .filter(organization_id=session.organization_id, reference=reference)
        .first()
    )
    if thread is None:
        return None
    participant = Participant.objects.filter(thread=thread, email__iexact=session.email).first()
    if participant is None:
        if not company_sees(
            organization=thread.organization, email=session.email, client_email=thread.client_email
        ):
            return None
        return ClientAccess(thread=thread, email=session.email, name="", colleague=True)
    is_client = address_normalize(session.email) == address_normalize(thread.client_email)
    name = participant.name or (thread.client_name if is_client else "")
    return ClientAccess(thread=thread, email=session.email, name=name)


def client_messages_read(*, thread: Thread, email: str) -> int:
    """The client opened the conversation: the desk's messages in it are read, first time counts."""
    return Message.objects.filter(
        thread=thread, direction=Message.Direction.OUTBOUND, client_read_at__isnull=True
    ).update(client_read_at=timezone.now(), client_read_by=email)


def portal_clear() -> int:
    """Delete expired or used sign-in links and ended or expired sessions; returns how many."""
    now = timezone.now()
    links, _ = ClientSignIn.objects.filter(
        Q(expires_at__lt=now) | Q(used_at__isnull=False)
    ).delete()
    sessions, _ = ClientSession.objects.filter(
        Q(expires_at__lt=now) | Q(ended_at__isnull=False)
    ).delete()
    return links + sessions
