"""Free-mail and consumer mailbox domains: anyone can have an address there.

An address at such a domain says who a person is, never which company they
work for; nothing that groups people by their domain may group these.
"""

FREE_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "fastmail.com",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hey.com",
        "hotmail.co.uk",
        "hotmail.com",
        "hotmail.fr",
        "icloud.com",
        "live.com",
        "mac.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "orange.fr",
        "outlook.com",
        "pm.me",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "t-online.de",
        "tutanota.com",
        "web.de",
        "yahoo.co.uk",
        "yahoo.com",
        "yahoo.fr",
        "yandex.com",
        "yandex.ru",
        "ymail.com",
        "zoho.com",
    }
)


def domain_is_free_mail(domain: str) -> bool:
    """Whether anyone may get an address at the domain (gmail.com, outlook.com…)."""
    return domain.strip().rstrip(".").lower() in FREE_MAIL_DOMAINS
