"""Migration 0012: the installation-wide suppressions of old go to the organizations whose
mail to the address bounced, and to no other."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("threads", "0011_guarded_mail")]
AFTER = [("threads", "0013_suppression_organization_required")]


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_suppressions_go_to_the_organizations_whose_mail_bounced_and_the_rest_are_dropped():
    old = _migrate(BEFORE)
    try:
        Organization = old.get_model("tisket", "Organization")
        OutboundMail = old.get_model("threads", "OutboundMail")
        Suppression = old.get_model("threads", "Suppression")
        acme, globex, initech = (
            Organization.objects.create(slug=slug, code=slug[:4].upper(), name=slug)
            for slug in ("acme", "globex", "initech")
        )
        until = timezone.now() + timedelta(days=30)
        for address in ("jane@client.test", "bob@client.test", "nobody@client.test"):
            Suppression.objects.create(address=address, reason="bounced", until=until)

        serial = itertools.count()

        def mailed(organization, to, cc=(), event="", earlier=()):
            OutboundMail.objects.create(
                organization=organization, kind="reply", to=list(to), cc=list(cc),
                subject="s", text="t", message_id_header=f"{next(serial)}@in.tisket.test",
                status="sent", delivery_event=event,
                earlier_attempts=[{"delivery_event": e} for e in earlier],
            )  # fmt: skip

        mailed(acme, ["Jane@Client.test"], event="bounced")
        mailed(globex, ["x@client.test"], cc=["jane@client.test"], event="complained")
        mailed(initech, ["jane@client.test"], event="delivered")  # mailed it, no bounce
        mailed(initech, ["bob@client.test"], earlier=["bounced"])  # bounced, then sent again
        mailed(acme, ["nobody@client.test"], event="delivered")

        new = _migrate(AFTER)
        Suppression = new.get_model("threads", "Suppression")
        kept = sorted(Suppression.objects.values_list("organization__slug", "address", "until"))
        assert kept == [
            ("acme", "jane@client.test", until),
            ("globex", "jane@client.test", until),
            ("initech", "bob@client.test", until),
        ]

        # Backwards: one row per address again, the unique address restored.
        old = _migrate(BEFORE)
        Suppression = old.get_model("threads", "Suppression")
        assert sorted(Suppression.objects.values_list("address", flat=True)) == [
            "bob@client.test",
            "jane@client.test",
        ]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
