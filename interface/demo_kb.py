"""The demo organization's knowledge base: a dozen articles a real help centre would have."""

from kb import services
from kb.models import Article, Category, Visibility
from tisket.models import Organization, Role

CATEGORIES = [
    ("getting-started", "Getting started", "Your first steps with Acme.", Visibility.PUBLIC),
    ("billing", "Account and billing", "Plans, invoices and payments.", Visibility.PUBLIC),
    ("orders", "Orders and delivery", "Tracking, shipping and returns.", Visibility.PUBLIC),
    ("playbooks", "Agent playbooks", "How the team handles tricky cases.", Visibility.MEMBERS),
]  # fmt: skip

ARTICLES = [
    (
        "getting-started",
        "Create your Acme account",
        ["signup", "account"],
        """
Go to **acme.test/signup**, enter your work email address and choose a password of at least
12 characters. We send you a confirmation link; click it within 24 hours to activate the account.

Already invited by a colleague? Use the link in the invitation instead: it adds you to your
team's account directly.
""",
    ),
    (
        "getting-started",
        "Reset your password",
        ["password", "login"],
        """
1. On the sign-in page, click **Forgot password**.
2. Enter the email address of your account.
3. Open the mail we send you and follow the link within one hour.

No mail after ten minutes? Check your spam folder, and that you typed the address you signed
up with. After ten failed sign-ins the account locks for 15 minutes.
""",
    ),
    (
        "getting-started",
        "Turn on two-factor authentication",
        ["security", "2fa"],
        """
Open **Settings → Security → Two-factor authentication**, scan the QR code with an
authenticator app (1Password, Google Authenticator, Authy…) and type the six-digit code.

Save the recovery codes we show you: they are the only way in if you lose your phone.
""",
    ),
    (
        "getting-started",
        "Invite your team",
        ["team", "members"],
        """
Admins invite colleagues from **Settings → Members → Invite**. Each invitation is valid for
seven days and can be resent or revoked. Roles, weakest first: viewer, agent, supervisor,
admin, owner.
""",
    ),
    (
        "billing",
        "Download your invoices",
        ["invoice", "billing"],
        """
Every invoice is under **Billing → Invoices**, as a PDF. Need your company name or VAT
number on it? Add them under **Billing → Company details**; invoices issued afterwards
carry them.
""",
    ),
    (
        "billing",
        "Change your payment card",
        ["card", "payment"],
        """
Under **Billing → Payment methods**, add the new card and make it the default. We try the
next charge on it; the old card can then be removed.

| Card | Accepted |
|---|---|
| Visa, Mastercard | yes |
| American Express | yes |
| Prepaid cards | no |
""",
    ),
    (
        "billing",
        "Refund policy",
        ["refund", "money back"],
        """
We refund any order within **30 days** of delivery, to the original payment method. Refunds
show on your statement within 5 to 10 business days. Subscriptions are refunded for the
unused months when you cancel within the first 14 days.
""",
    ),
    (
        "billing",
        "Cancel your subscription",
        ["subscription", "cancel"],
        """
Open **Billing → Subscription → Cancel**. You keep access until the end of the paid period
and are not charged again. Your data stays for 30 days in case you change your mind.
""",
    ),
    (
        "orders",
        "Track your order",
        ["tracking", "delivery"],
        """
Every shipped order has a tracking link in its shipping confirmation mail and under
**Orders** in your account. Tracking starts a few hours after the parcel leaves us.
""",
    ),
    (
        "orders",
        "Shipping times and costs",
        ["shipping", "delivery"],
        """
Orders leave our warehouse within two working days. Delivery takes 3 to 5 days in Europe,
7 to 14 days elsewhere. Shipping is free above 50 € in Europe; otherwise the price is shown
at checkout before you pay.
""",
    ),
    (
        "orders",
        "Return an item",
        ["return", "exchange"],
        """
Start a return from **Orders**: choose the item and the reason, print the prepaid label and
drop the parcel at any carrier point within 30 days. Choose *Exchange* to get another size
instead of a refund.
""",
    ),
    (
        "playbooks",
        "Handling a suspected account takeover",
        ["security", "escalation"],
        """
1. Lock the account from the admin console (**Users → Lock**).
2. Ask the client to confirm their identity from the address on file, never from the
   address that wrote in.
3. Escalate to a supervisor and tag the ticket `security`.

Never reveal whether an address has an account.
""",
    ),
    (
        "playbooks",
        "Goodwill credits",
        ["refund", "credit"],
        """
Agents may grant up to 20 € of goodwill credit per order when a delivery is late by more
than five days. Above that, ask a supervisor. Note the credit in the ticket.
""",
    ),
]


def demo_knowledge_base(organization: Organization) -> int:
    """Write the demo's categories and articles once; the number of articles written."""
    if Article.objects.filter(organization=organization).exists():
        return 0
    categories: dict[str, Category] = {}
    for slug, name, description, visibility in CATEGORIES:
        categories[slug] = services.category_create(
            organization=organization,
            actor=None,
            name=name,
            slug=slug,
            description=description,
            visibility=visibility,
            min_role=Role.VIEWER,
        )
    for category, title, tags, body in ARTICLES:
        services.article_create(
            organization=organization,
            actor=None,
            title=title,
            body=body.strip(),
            tags=tags,
            category=categories[category],
            publish=True,
        )
    return len(ARTICLES)
