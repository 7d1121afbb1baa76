"""Authentication verdicts on a mail's From: tisket.lib.mail.authentication, table by table."""

import pytest

from tisket.lib.mail.authentication import (
    AuthResult,
    authentication_results_verdict,
    domain_aligned,
    parse_authentication_results,
    parse_received_spf,
    received_spf_verdict,
)

GMAIL = (
    "mx.google.com;\r\n"
    "       dkim=pass header.i=@example.com header.s=20230601 header.b=Qe5kVf3T;\r\n"
    "       spf=pass (google.com: domain of alice@example.com designates 209.85.220.41 as "
    "permitted sender) smtp.mailfrom=alice@example.com;\r\n"
    "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com"
)
MICROSOFT_365 = (
    "spf=pass (sender IP is 209.85.220.41)\r\n smtp.mailfrom=example.com; dkim=pass (signature "
    "was verified)\r\n header.d=example.com;dmarc=pass action=none\r\n header.from=example.com;"
    "compauth=pass reason=100"
)
OPENDMARC = "mail.example.net; dmarc=pass (p=reject dis=none) header.from=example.com"
OPENDKIM = (
    "mail.example.net;\n\tdkim=pass (2048-bit key; unprotected) header.d=example.com "
    "header.i=@example.com header.a=rsa-sha256 header.s=s1 header.b=AbCdEf12;\n\tdkim-atps=neutral"
)
POSTFIX_SPF = (
    "mail.example.net; spf=pass (sender SPF authorized) smtp.mailfrom=bounces.example.com "
    "(client-ip=192.0.2.1; helo=out.example.com; envelope-from=bounces@bounces.example.com)"
)
RFC_8601_NESTED = (
    'example.net 1 (comment (nested; dmarc=pass header.from=evil.test)); dkim=pass reason="good '
    'signature; header.d=evil.test" header . d = example.com; none'
)


@pytest.mark.parametrize(
    ("value", "authserv_id", "results"),
    [
        (
            GMAIL,
            "mx.google.com",
            [
                ("dkim", "pass", {"header.i": "@example.com", "header.s": "20230601"}),
                ("spf", "pass", {"smtp.mailfrom": "alice@example.com"}),
                ("dmarc", "pass", {"header.from": "example.com"}),
            ],
        ),
        (
            MICROSOFT_365,
            "",
            [
                ("spf", "pass", {"smtp.mailfrom": "example.com"}),
                ("dkim", "pass", {"header.d": "example.com"}),
                ("dmarc", "pass", {"action": "none", "header.from": "example.com"}),
                ("compauth", "pass", {"reason": "100"}),
            ],
        ),
        (OPENDMARC, "mail.example.net", [("dmarc", "pass", {"header.from": "example.com"})]),
        (
            OPENDKIM,
            "mail.example.net",
            [
                ("dkim", "pass", {"header.d": "example.com", "header.s": "s1"}),
                ("dkim-atps", "neutral", {}),
            ],
        ),
        (
            POSTFIX_SPF,
            "mail.example.net",
            [("spf", "pass", {"smtp.mailfrom": "bounces.example.com"})],
        ),
        (
            RFC_8601_NESTED,
            "example.net",
            [
                (
                    "dkim",
                    "pass",
                    {"reason": "good signature; header.d=evil.test", "header.d": "example.com"},
                )
            ],
        ),
        ('"quoted id"; spf=fail smtp.mailfrom=x.test', "quoted id", [("spf", "fail", {})]),
        ("mx.example.org; none", "mx.example.org", []),
        ("mx.example.org 1; dkim = pass header.d=example.com", "mx.example.org", [("dkim",)]),
        ("MX.Example.ORG; DMARC=Pass header.from=example.com", "mx.example.org", [("dmarc",)]),
    ],
)
def test_authentication_results_headers_parse_into_their_results(value, authserv_id, results):
    header = parse_authentication_results(value)
    assert header.authserv_id == authserv_id
    assert [r.method for r in header.results] == [r[0] for r in results]
    for parsed, (method, *expected) in zip(header.results, results, strict=True):
        assert isinstance(parsed, AuthResult)
        assert parsed.method == method
        if expected:
            result, properties = expected
            assert parsed.result == result
            assert properties.items() <= parsed.properties.items()


@pytest.mark.parametrize("value", ["", "   ", "(only a comment)", ";;;"])
def test_an_empty_authentication_results_header_is_unreadable(value):
    assert parse_authentication_results(value) is None


TRUSTED = frozenset({"mx.google.com", "mail.example.net", "example.net"})


@pytest.mark.parametrize(
    ("headers", "from_domain", "passes"),
    [
        ([GMAIL], "example.com", "dkim=pass for example.com"),
        ([OPENDMARC], "example.com", "dmarc=pass header.from=example.com"),
        ([OPENDKIM], "example.com", "dkim=pass for example.com"),
        ([OPENDKIM], "support.example.com", "dkim=pass for example.com"),
        ([POSTFIX_SPF], "bounces.example.com", "spf=pass for bounces.example.com"),
        ([RFC_8601_NESTED], "example.com", "dkim=pass for example.com"),
        # Microsoft 365 names no authserv-id: nothing to trust it by.
        ([MICROSOFT_365], "example.com", ""),
        # dmarc=pass speaks for the From domain it names, and no other.
        ([OPENDMARC], "evil.test", ""),
        ([OPENDMARC], "sub.example.com", ""),
        # Not aligned: the sender's envelope or signature is another domain's.
        ([POSTFIX_SPF], "example.org", ""),
        ([OPENDKIM], "notexample.com", ""),
        (["mail.example.net; dkim=pass header.d=com"], "example.com", ""),
        (["mail.example.net; dkim=fail header.d=example.com"], "example.com", ""),
        (["mail.example.net; spf=softfail smtp.mailfrom=example.com"], "example.com", ""),
        (["mail.example.net; dmarc=pass"], "example.com", ""),
        # An untrusted receiver, however good its news.
        (["mx.evil.test; dmarc=pass header.from=example.com"], "example.com", ""),
        # Only the topmost header counts: copies below it came with the mail.
        ([OPENDMARC.replace("pass", "fail"), OPENDMARC], "example.com", ""),
        (["mx.evil.test; none", OPENDMARC], "example.com", ""),
        ([], "example.com", ""),
        # A quoted local part is part of the address: the domain is the one after it.
        (
            ['mail.example.net; spf=pass smtp.mailfrom="agent@example.com"@evil.test'],
            "example.com",
            "",
        ),
        (['mail.example.net; dkim=pass header.i="x@example.com"@evil.test'], "example.com", ""),
        (
            ['mail.example.net; spf=pass smtp.mailfrom="a b"@example.com'],
            "example.com",
            "spf=pass for example.com",
        ),
        # The From domain's own policy failed: an aligned SPF pass beside it does not count.
        (
            [
                "mail.example.net; spf=pass smtp.mailfrom=example.com; "
                "dmarc=fail header.from=example.com"
            ],
            "example.com",
            "",
        ),
    ],
)
def test_only_the_topmost_trusted_authentication_results_vouches_for_the_from_domain(
    headers, from_domain, passes
):
    verdict = authentication_results_verdict(
        headers, from_domain=from_domain, trusted_authserv_ids=TRUSTED
    )
    assert verdict.endswith(passes) if passes else verdict == ""
    if passes:
        assert verdict.startswith("Authentication-Results of ")


def test_no_authentication_results_is_trusted_when_no_receiver_is_listed():
    verdict = authentication_results_verdict(
        [OPENDMARC], from_domain="example.com", trusted_authserv_ids=frozenset()
    )
    assert verdict == ""


POSTMARK_SPF = (
    "Pass (sender SPF authorized) identity=mailfrom; client-ip=209.85.160.180; "
    "helo=mail-yk0-f180.google.com; envelope-from=alice@example.com; "
    "receiver=451d9b70cf9364d23ff6f9d51d870251569e@inbound.postmarkapp.com"
)
RFC_7208_SPF = (
    "pass (mybox.example.org: domain of\r\n myname@example.com designates 192.0.2.1 as "
    'permitted sender)\r\n receiver=mybox.example.org; client-ip=192.0.2.1;\r\n envelope-from="'
    'myname@example.com"; helo=foo.example.com;'
)


@pytest.mark.parametrize(
    ("value", "result", "envelope_from"),
    [
        (POSTMARK_SPF, "pass", "alice@example.com"),
        (RFC_7208_SPF, "pass", "myname@example.com"),
        (
            "softfail (domain of transitioning x@y.test) envelope-from=x@y.test",
            "softfail",
            "x@y.test",
        ),
        ("none", "none", None),
    ],
)
def test_received_spf_headers_parse_into_result_and_pairs(value, result, envelope_from):
    header = parse_received_spf(value)
    assert header.result == result
    assert header.properties.get("envelope-from") == envelope_from


@pytest.mark.parametrize(
    ("headers", "from_domain", "passes"),
    [
        ([POSTMARK_SPF], "example.com", True),
        ([RFC_7208_SPF], "example.com", True),
        ([POSTMARK_SPF], "mail.example.com", True),
        ([POSTMARK_SPF], "example.org", False),
        ([POSTMARK_SPF.replace("Pass", "Fail", 1)], "example.com", False),
        ([POSTMARK_SPF.replace("identity=mailfrom", "identity=helo")], "example.com", False),
        (["pass receiver=mx; client-ip=192.0.2.1"], "example.com", False),  # no envelope sender
        # Only the topmost: the attacker's own pass sits below the receiver's verdict.
        (["fail (not permitted) envelope-from=a@example.com", POSTMARK_SPF], "example.com", False),
        ([], "example.com", False),
        # The attacker's own domain, with the member's address quoted in front of it.
        (
            ['pass envelope-from="agent@example.com"@evil.test; identity=mailfrom'],
            "example.com",
            False,
        ),
    ],
)
def test_only_the_topmost_received_spf_pass_aligned_with_from_vouches(headers, from_domain, passes):
    verdict = received_spf_verdict(headers, from_domain=from_domain)
    assert bool(verdict) == passes
    if passes:
        assert verdict.startswith("Received-SPF: pass for ")


@pytest.mark.parametrize(
    ("domain", "from_domain", "aligned"),
    [
        ("example.com", "example.com", True),
        ("EXAMPLE.com.", "example.COM", True),
        ("example.com", "mail.example.com", True),
        ("alice@example.com", "example.com", True),
        ("@example.com", "a.b.example.com", True),
        ("mail.example.com", "example.com", False),  # a child does not speak for its parent
        ("ample.com", "example.com", False),
        ("com", "example.com", False),
        ("", "example.com", False),
        ("bücher.example", "xn--bcher-kva.example", True),
    ],
)
def test_a_domain_aligns_with_the_from_domain_itself_or_its_parents(domain, from_domain, aligned):
    assert domain_aligned(domain, from_domain) is aligned
