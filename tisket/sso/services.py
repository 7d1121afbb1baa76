"""Single sign-on: an organization's provider settings, and one sign-in from start to finish."""

import secrets
import time
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from tisket.audit import Action, audit_record
from tisket.lib.secrets_box import secret_open, secret_seal
from tisket.models import Membership, Organization, Role, User
from tisket.sso import oidc
from tisket.sso.models import SsoProvider

PENDING_SECONDS = 600  # from leaving for the provider to coming back


class SsoRefused(Exception):
    """The sign-in cannot go on; the message is for the person, `reason` for the audit log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def sso_provider_get(*, organization: Organization) -> SsoProvider | None:
    return SsoProvider.objects.filter(organization=organization).first()


def sso_providers_for_email(*, email: str) -> list[SsoProvider]:
    """The enabled providers that speak for this address's domain."""
    domain = email.rpartition("@")[2].lower()
    providers = SsoProvider.objects.filter(enabled=True).select_related("organization")
    # A handful of rows in a whole installation: filtered here, the same on every database.
    return [p for p in providers.order_by("organization__name") if p.allows_domain(domain)]


def _domains_clean(domains: list[str]) -> list[str]:
    cleaned = []
    for domain in domains:
        domain = domain.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        labels = domain.split(".")
        if len(labels) < 2 or not all(labels) or " " in domain or "@" in domain:
            raise ValidationError({"allowed_domains": f"{domain[:100]} is not a domain name."})
        if domain not in cleaned:
            cleaned.append(domain)
    return cleaned


@transaction.atomic
def sso_provider_save(
    *,
    organization: Organization,
    enabled: bool,
    issuer: str,
    client_id: str,
    client_secret: str,
    allowed_domains: list[str],
    required: bool,
    proven_domains: Collection[str],
) -> SsoProvider:
    """Set the organization's provider; a blank secret keeps the stored one.

    Turning it on reads the provider's discovery document first, so a mistyped
    issuer is a form error now rather than a failed sign-in later. Each email
    domain must be one the organization has proven it owns (proven_domains, or a
    subdomain of one): the sign-in page sends anyone typing an address at that
    domain to this provider, which would otherwise let any organization put its
    own login page in front of another's people.
    """
    issuer = issuer.strip()
    try:
        URLValidator(schemes=["https", "http"])(issuer)
    except ValidationError:
        raise ValidationError({"issuer": "Enter the provider's issuer URL."}) from None
    domains = _domains_clean(allowed_domains)
    proven = {d.lower() for d in proven_domains}
    unproven = [d for d in domains if not any(d == p or d.endswith("." + p) for p in proven)]
    if unproven:
        raise ValidationError(
            {
                "allowed_domains": f"Prove that {unproven[0][:100]} is yours first: add it on "
                "the Domains page and publish its TXT record."
            }
        )
    provider = SsoProvider.objects.select_for_update().filter(organization=organization).first()
    provider = provider or SsoProvider(organization=organization)
    if enabled:
        if not domains:
            raise ValidationError({"allowed_domains": "Name at least one email domain."})
        try:
            oidc.discover(issuer)
        except oidc.OidcError as error:
            raise ValidationError({"issuer": str(error)}) from None
    if required and not enabled:
        raise ValidationError({"required": "Single sign-on can be required only while it is on."})
    secret_changed = bool(client_secret)
    if secret_changed:
        provider.client_secret_sealed = secret_seal(client_secret)
    provider.enabled, provider.issuer, provider.client_id = enabled, issuer, client_id.strip()
    provider.allowed_domains, provider.required = domains, required
    provider.updated_at = timezone.now()
    provider.full_clean(exclude=["organization"])
    provider.save()
    audit_record(
        organization=organization,
        action=Action.SSO_CHANGED,
        target=organization,
        data={
            "enabled": enabled,
            "issuer": issuer,
            "client_id": provider.client_id,
            "domains": domains,
            "required": required,
            "new_client_secret": secret_changed,  # scrubbed by name: only that it changed shows
        },
    )
    return provider


# --- One sign-in ----------------------------------------------------------------------------


def sso_begin(
    *, provider: SsoProvider, redirect_uri: str, login_hint: str = ""
) -> tuple[str, dict]:
    """Where to send the browser, and what to keep in its session until it comes back."""
    if not provider.enabled:
        raise SsoRefused("disabled", f"{provider.organization.name} has no single sign-on.")
    try:
        endpoints = oidc.discover(provider.issuer)
    except oidc.OidcError as error:
        raise SsoRefused(error.reason, str(error)) from None
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, challenge = oidc.pkce_pair()
    url = oidc.authorization_url(
        endpoints,
        client_id=provider.client_id,
        redirect_uri=redirect_uri,
        state=state,
        nonce=nonce,
        challenge=challenge,
        login_hint=login_hint,
    )
    pending = {
        "organization": provider.organization_id,
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "at": time.time(),
    }
    return url, pending


def _refuse(provider: SsoProvider, error: SsoRefused, email: str = "") -> SsoRefused:
    data = {"method": "sso", "reason": error.reason}
    if email:
        data["email"] = email
    audit_record(
        organization=provider.organization_id,
        action=Action.LOGIN_FAILED,
        actor_label="someone",
        target=provider.organization,
        data=data,
    )
    return error


def sso_finish(
    *, pending: dict | None, params: dict[str, str], redirect_uri: str, now: float
) -> Membership:
    """Check what the provider sent back; returns the member it signs in, or raises SsoRefused.

    `pending` is what sso_begin kept, already taken out of the session, so a
    state is good for one return only.
    """
    stale = SsoRefused(
        "state",
        "This sign-in link is stale or was used already. Start again from the sign-in page.",
    )
    if not pending or not secrets.compare_digest(str(params.get("state", "")), pending["state"]):
        raise stale
    provider = (
        SsoProvider.objects.select_related("organization")
        .filter(organization_id=pending["organization"], enabled=True)
        .first()
    )
    if provider is None:
        raise SsoRefused("disabled", "This organization no longer signs in through single sign-on.")
    if now - pending["at"] > PENDING_SECONDS:
        raise _refuse(provider, stale)
    if params.get("error") or not params.get("code"):
        error = str(params.get("error") or "no_code")[:60]
        raise _refuse(
            provider, SsoRefused("provider", f"The provider did not sign you in ({error}).")
        )
    try:
        endpoints = oidc.discover(provider.issuer)
        id_token = oidc.code_exchange(
            endpoints,
            client_id=provider.client_id,
            client_secret=secret_open(provider.client_secret_sealed),
            code=params["code"],
            redirect_uri=redirect_uri,
            verifier=pending["verifier"],
        )
        claims = oidc.id_token_claims(
            id_token,
            keys=oidc.signing_keys(endpoints),
            issuer=provider.issuer,
            client_id=provider.client_id,
            nonce=pending["nonce"],
            now=int(now),
        )
    except oidc.OidcError as error:
        raise _refuse(provider, SsoRefused(error.reason, str(error))) from None
    return _member_of_claims(provider, claims)


def _member_of_claims(provider: SsoProvider, claims: dict) -> Membership:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _refuse(provider, SsoRefused("email", "The provider did not tell us your email."))
    email = email.strip()
    if claims.get("email_verified") not in (True, "true"):
        raise _refuse(
            provider,
            SsoRefused(
                "email_unverified",
                f"The provider has not verified {email}; verify it there, then try again.",
            ),
            email,
        )
    if not provider.allows_domain(email.rpartition("@")[2]):
        raise _refuse(
            provider,
            SsoRefused(
                "domain",
                f"{provider.organization.name} does not sign in {email} through this provider.",
            ),
            email,
        )
    # Matched only within this provider's organization: a provider speaks for its own
    # members, never for a person's memberships elsewhere, and never makes one.
    membership = (
        Membership.objects.select_related("user", "organization")
        .filter(organization=provider.organization, user__email__iexact=email, user__is_active=True)
        .first()
    )
    if membership is None:
        raise _refuse(
            provider,
            SsoRefused(
                "unknown_member",
                f"{email} is not a member of {provider.organization.name}. "
                "Ask one of its admins to invite you.",
            ),
            email,
        )
    return membership


def sso_required_for(*, user: User) -> Organization | None:
    """An organization that signs this user in through its provider only, if any.

    Owners are spared, so that the people who fix a broken provider can still sign in.
    """
    membership = (
        Membership.objects.filter(
            user=user,
            organization__sso_provider__enabled=True,
            organization__sso_provider__required=True,
        )
        .exclude(role=Role.OWNER)
        .select_related("organization")
        .order_by("organization__name")
        .first()
    )
    return membership.organization if membership is not None else None
