"""What DNS says of a mail domain: ownership, SPF, DKIM, DMARC and MX, each in plain words.

Every check is a dict {"key", "title", "ok", "explanation"}: ok is True, False,
or None when Tisket cannot tell (the resolvers failed, or the installation has
not said what to look for).
"""

from django.conf import settings

from inboxes.esp_domains import INBOUND_MX_HOST, INBOUND_MX_PRIORITY
from inboxes.models import MailDomain
from tisket.lib.mail.dns_records import DnsUnavailable, Lookup


def _check(key: str, title: str, ok: bool | None, explanation: str) -> dict:
    return {"key": key, "title": title, "ok": ok, "explanation": explanation}


def _unavailable(key: str, title: str, name: str) -> dict:
    return _check(
        key,
        title,
        None,
        f"The DNS servers did not answer for {name} in time; Tisket tries again within the hour.",
    )


def ownership_check(domain: MailDomain, lookup: Lookup) -> dict:
    title, name, want = "Ownership", domain.ownership_record_name, domain.ownership_record_value
    try:
        values = lookup.txt(name)
    except DnsUnavailable:
        return _unavailable("ownership", title, name)
    if want in values:
        return _check(
            "ownership",
            title,
            True,
            f"The TXT record {name} holds this domain's token: the domain is yours.",
        )
    if values:
        return _check(
            "ownership",
            title,
            False,
            f"There is a TXT record at {name}, but it does not hold this domain's token. "
            f"Set its value to {want}.",
        )
    return _check(
        "ownership",
        title,
        False,
        f"No TXT record at {name} yet. Publish one with the value {want} to prove that the "
        "domain is yours; DNS changes can take up to an hour to show.",
    )


def spf_check(domain: MailDomain, lookup: Lookup) -> dict:
    title = "SPF"
    try:
        records = [v for v in lookup.txt(domain.name) if v.lower().startswith("v=spf1")]
    except DnsUnavailable:
        return _unavailable("spf", title, domain.name)
    include = settings.TISKET_SPF_INCLUDE
    if not records:
        hint = f" that includes include:{include}" if include else ""
        return _check(
            "spf",
            title,
            False,
            f"{domain.name} publishes no SPF record, so receivers cannot tell which servers may "
            f"send its mail. Add a TXT record v=spf1 ...{hint} at {domain.name}.",
        )
    if len(records) > 1:
        return _check(
            "spf",
            title,
            False,
            f"{domain.name} publishes {len(records)} SPF records; receivers treat that as an "
            "error. Merge them into one.",
        )
    if not include:
        return _check(
            "spf",
            title,
            None,
            f"{domain.name} has an SPF record. This installation has not said which relay "
            "sends its mail, so Tisket cannot tell whether the record names it; the DKIM "
            "signature below is what proves Tisket's mail is yours.",
        )
    if f"include:{include}" in records[0].lower().split():
        return _check(
            "spf",
            title,
            True,
            f"The SPF record of {domain.name} allows Tisket's mail servers (include:{include}).",
        )
    return _check(
        "spf",
        title,
        False,
        f"The SPF record of {domain.name} does not allow Tisket's mail servers: add "
        f"include:{include} to it, before its final all.",
    )


def _dkim_published(lookup: Lookup, name: str, public: str) -> bool:
    for value in lookup.txt(name):
        tags = dict(part.strip().split("=", 1) for part in value.split(";") if "=" in part.strip())
        if "".join(tags.get("p", "").split()) == public:
            return True
    return False


def dkim_check(domain: MailDomain, lookup: Lookup) -> tuple[dict, bool, bool]:
    """The check, whether the current key is published, and whether the next one is."""
    title, name = "DKIM", domain.dkim_record_name
    try:
        current = _dkim_published(lookup, name, domain.dkim_public)
        upcoming = bool(domain.dkim_next_selector) and _dkim_published(
            lookup, domain.dkim_next_record_name, domain.dkim_next_public
        )
    except DnsUnavailable:
        return _unavailable("dkim", title, name), domain.dkim_verified, False
    if upcoming:
        text = (
            f"The new key ({domain.dkim_next_selector}) is published: Tisket signs with it "
            f"from now on, and you may remove the record {name}."
        )
        return _check("dkim", title, True, text), current, True
    if current:
        text = (
            f"The key at {name} matches: mail Tisket sends from {domain.name} is signed, and "
            "receivers can check that it is yours and unchanged."
        )
        if domain.dkim_next_selector:
            text += (
                f" The new key is not published yet at {domain.dkim_next_record_name}; Tisket "
                "keeps signing with the current one until it is."
            )
        return _check("dkim", title, True, text), True, False
    return (
        _check(
            "dkim",
            title,
            False,
            f"No matching key at {name}. Publish the TXT record shown below; until then Tisket "
            "does not sign, and receivers may file your mail as spam.",
        ),
        False,
        False,
    )


def dmarc_check(domain: MailDomain, lookup: Lookup) -> dict:
    title, name = "DMARC", f"_dmarc.{domain.name}"
    try:
        records = [v for v in lookup.txt(name) if v.lower().startswith("v=dmarc1")]
    except DnsUnavailable:
        return _unavailable("dmarc", title, name)
    if not records:
        return _check(
            "dmarc",
            title,
            False,
            f"No DMARC record at {name}: receivers get no instruction for mail that fails "
            "the checks. Publish at least v=DMARC1; p=none.",
        )
    tags = {
        k.strip().lower(): v.strip().lower()
        for k, _, v in (p.partition("=") for p in records[0].split(";"))
    }
    policy = tags.get("p", "")
    meaning = {
        "none": "receivers only report mail that fails (monitoring)",
        "quarantine": "receivers file mail that fails as spam",
        "reject": "receivers refuse mail that fails",
    }.get(policy)
    if meaning is None:
        return _check(
            "dmarc",
            title,
            False,
            f"The DMARC record at {name} has no valid policy (p=none, quarantine or reject).",
        )
    return _check("dmarc", title, True, f"DMARC is published with p={policy}: {meaning}.")


def mx_check(domain: MailDomain, lookup: Lookup) -> tuple[dict, bool]:
    """The check, and whether the domain's mail reaches Tisket directly."""
    title = "Replies"
    ours = set(settings.TISKET_INBOUND_MX_HOSTS)
    if domain.esp_inbound_id:
        # Its own server at Postmark receives for it and posts to Tisket.
        ours.add(INBOUND_MX_HOST)
    try:
        hosts = lookup.mx(domain.name)
    except DnsUnavailable:
        return _unavailable("mx", title, domain.name), domain.mx_routes_here
    if ours and ours.intersection(hosts):
        return (
            _check(
                "mx",
                title,
                True,
                f"The MX records of {domain.name} route its mail to Tisket, so clients' "
                "replies go to your address here too.",
            ),
            True,
        )
    return (
        _check(
            "mx",
            title,
            None,
            f"The mail of {domain.name} does not reach Tisket directly (its MX records name "
            "other servers), so replies go to the inbox's provisioned address; forwarding "
            "your address to it still brings new mail in. This is fine.",
        ),
        False,
    )


def inbound_mx_check(domain: MailDomain, lookup: Lookup) -> dict:
    """Whether the domain's MX record names Postmark, where its inbound server waits."""
    title, record = "Mail in through Postmark", f"MX {INBOUND_MX_PRIORITY} {INBOUND_MX_HOST}"
    try:
        hosts = lookup.mx(domain.name)
    except DnsUnavailable:
        return _unavailable("inbound_mx", title, domain.name)
    if INBOUND_MX_HOST in hosts:
        others = [h for h in hosts if h != INBOUND_MX_HOST]
        text = f"The MX record of {domain.name} names Postmark: mail to it reaches Tisket."
        if others:
            text += (
                f" It names {', '.join(others)} too: mail goes to the host with the lowest "
                f"priority number first, so give {INBOUND_MX_HOST} the lowest."
            )
        return _check("inbound_mx", title, True, text)
    return _check(
        "inbound_mx",
        title,
        False,
        f"Postmark is ready to receive the mail of {domain.name}, but its MX records do not "
        f"name it yet. Publish {record} at {domain.name} (as its only MX record) when this "
        "domain's mail should come to Tisket.",
    )
