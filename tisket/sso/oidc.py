"""The OpenID Connect client: discovery, the code exchange with PKCE, and the ID token's checks.

Signatures and claims are checked with joserfc (the JOSE core of Authlib):
the ID token must be signed with an asymmetric algorithm by a key of the
provider's JWKS, name this provider as issuer and our client as audience,
be unexpired and carry the nonce this sign-in sent. A token signed with
"none" or with the client secret (HS256) is refused: only the provider holds
the private key, whereas our client secret sits in our database too.
"""

import base64
import dataclasses
import hashlib
import logging
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from tisket.lib.webfetch import FetchError, fetch_json, url_check

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY_SECONDS = 60  # clock skew between the provider and us
DISCOVERY_SECONDS = 300

logger = logging.getLogger(__name__)


class OidcError(Exception):
    """A sign-in through the provider failed; `reason` is a short name for the audit log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization: str
    token: str
    jwks: str
    token_auth_methods: list[str]


def _fetch(url: str, **kwargs) -> dict:
    allowed, seconds = settings.TISKET_ALLOWED_SSO_HOSTS, settings.TISKET_SSO_DEADLINE
    return fetch_json(
        url, allowed=allowed, seconds=seconds, setting="TISKET_ALLOWED_SSO_HOSTS", **kwargs
    )


def discover(issuer: str) -> Endpoints:
    """The provider's endpoints, from its discovery document, kept a few minutes.

    Kept so that a sign-in page anyone can post to does not make us ask the
    provider each time; a cache that is down only means asking again.
    """
    key = "tisket:oidc:" + hashlib.sha256(issuer.encode()).hexdigest()
    try:
        kept = cache.get(key)
    except Exception as error:  # the cache's own connection errors, whatever the backend
        logger.warning("discovery not read from the cache: %s", error)
        kept = None
    if kept is not None:
        return Endpoints(**kept)
    endpoints = _discover(issuer)
    try:
        cache.set(key, dataclasses.asdict(endpoints), DISCOVERY_SECONDS)
    except Exception as error:
        logger.warning("discovery not kept in the cache: %s", error)
    return endpoints


def _discover(issuer: str) -> Endpoints:
    """Read the provider's discovery document (OpenID Connect Discovery 1.0, section 4)."""
    allowed = settings.TISKET_ALLOWED_SSO_HOSTS
    try:
        document = _fetch(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        # Section 4.3: the document must name the very issuer it was fetched for.
        if document.get("issuer") != issuer:
            raise FetchError(f"The provider calls itself {str(document.get('issuer'))[:200]!r}.")
        endpoints = Endpoints(
            issuer=issuer,
            authorization=url_check(str(document["authorization_endpoint"]), allowed=allowed),
            token=url_check(str(document["token_endpoint"]), allowed=allowed),
            jwks=url_check(str(document["jwks_uri"]), allowed=allowed),
            token_auth_methods=[
                str(m)
                for m in document.get("token_endpoint_auth_methods_supported")
                or ["client_secret_basic"]
            ],
        )
    except KeyError as missing:
        raise OidcError("discovery", f"The discovery document has no {missing}.") from None
    except FetchError as error:
        raise OidcError("discovery", f"The provider's discovery failed: {error}") from None
    return endpoints


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_url(
    endpoints: Endpoints,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    nonce: str,
    challenge: str,
    login_hint: str = "",
) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        params["login_hint"] = login_hint
    separator = "&" if "?" in endpoints.authorization else "?"
    return f"{endpoints.authorization}{separator}{urlencode(params)}"


def code_exchange(
    endpoints: Endpoints,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    verifier: str,
) -> str:
    """Trade the authorization code for tokens; returns the ID token."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    headers = {}
    if "client_secret_basic" in endpoints.token_auth_methods or not client_secret:
        # RFC 6749 2.3.1: both parts form-encoded before the Basic encoding.
        pair = f"{_form_escape(client_id)}:{_form_escape(client_secret)}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        form |= {"client_id": client_id, "client_secret": client_secret}
    try:
        answer = _fetch(endpoints.token, form=form, headers=headers)
    except FetchError as error:
        raise OidcError("token", f"The provider refused the sign-in code: {error}") from None
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise OidcError("token", "The provider sent no ID token.")
    return id_token


def _form_escape(value: str) -> str:
    return urlencode({"": value})[1:]


def signing_keys(endpoints: Endpoints) -> KeySet:
    try:
        return KeySet.import_key_set(_fetch(endpoints.jwks))  # type: ignore[arg-type]
    except (FetchError, JoseError, ValueError, TypeError) as error:
        raise OidcError("jwks", f"The provider's signing keys could not be read: {error}") from None


def id_token_claims(
    id_token: str, *, keys: KeySet, issuer: str, client_id: str, nonce: str, now: int
) -> dict:
    """The ID token's claims once its signature and claims hold (OpenID Connect Core 3.1.3.7)."""
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except JoseError as error:
        message = f"The ID token's signature does not hold ({error.error})."
        raise OidcError("signature", message) from None
    except ValueError:
        raise OidcError("signature", "The ID token is malformed.") from None
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
    )
    claims = token.claims
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise OidcError("expired", "The ID token has expired.") from None
    except JoseError as error:
        raise OidcError("claims", f"The ID token is not for us ({error.description}).") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcError("claims", "The ID token was issued to another client (azp).")
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(
        claims["nonce"], nonce
    ):
        raise OidcError("nonce", "The ID token does not answer this sign-in (nonce).")
    return claims
