"""The core shared by every app: users, organizations (tenants), memberships, API tokens,
invitations, sessions, the audit log. Each kind lives in a module of this package by
role; this module names them all, as Django and the other apps look for them here."""

from tisket.branding.models import MailBranding  # noqa: F401
from tisket.models.access import (  # noqa: F401
    ApiToken,
    Invitation,
    LoginThrottle,
    McpCall,
    TokenScope,
    UserSession,
)
from tisket.models.people import (  # noqa: F401
    HANDLE_RE,
    RESERVED_SLUGS,
    ROLE_RANK,
    SLUG_RE,
    Membership,
    Organization,
    Role,
    User,
    UserManager,
    role_at_least,
    role_min,
    validate_handle,
    validate_language,
    validate_org_code,
    validate_org_slug,
    validate_timezone,
)
from tisket.models.records import (  # noqa: F401
    AuditEvent,
    AuditEventQuerySet,
    Sequence,
    Unsubscription,
)

# Kept in the packages of their features: notifications and their preferences, mail
# branding, and single sign-on.
from tisket.notifications.models import (  # noqa: F401
    Notification,
    NotificationDefault,
    NotificationPreference,
)
from tisket.sso.models import SsoProvider  # noqa: F401
