"""Suppressions become each organization's own.

A suppression of old named an address for the whole installation. Each one is
given to the organizations whose mail to the address the ESP reported as
bounced or complained of (the outbox keeps that word, for the latest attempt
and the earlier ones); a suppression no organization's mail explains is
dropped. Keeping it for every organization that ever mailed the address would
carry over the very leak this closes (one tenant making an address bounce for
all), and what a dropped one costs is bounded: at most one more automatic mail
per organization, whose bounce suppresses the address again, for that
organization alone. Suppressions expire after 60 days anyway.

Backwards, one row per address is kept (the latest to expire).
"""

import django.db.models.deletion
from django.db import migrations, models

EVENTS = {"bounced", "complained"}


def _normalized(address) -> str:
    return str(address or "").strip().lower()


def suppressions_attribute(apps, schema_editor) -> None:
    Suppression = apps.get_model("threads", "Suppression")
    OutboundMail = apps.get_model("threads", "OutboundMail")
    db = schema_editor.connection.alias  # the database migrated, which may not be the default
    addresses = {_normalized(s.address) for s in Suppression.objects.using(db)}
    if not addresses:
        return
    organizations: dict[str, set[int]] = {}
    reported = OutboundMail.objects.using(db).exclude(delivery_event="", earlier_attempts=[])
    for row in reported.values("organization_id", "to", "cc", "delivery_event", "earlier_attempts"):
        events = {row["delivery_event"]} | {
            attempt.get("delivery_event") for attempt in row["earlier_attempts"] or []
        }
        if not events & EVENTS:
            continue
        for address in [*(row["to"] or []), *(row["cc"] or [])]:
            if _normalized(address) in addresses:
                organizations.setdefault(_normalized(address), set()).add(row["organization_id"])
    for suppression in Suppression.objects.using(db).order_by("pk"):
        found = sorted(organizations.get(_normalized(suppression.address), ()))
        if not found:
            suppression.delete()
            continue
        first, *others = found
        suppression.organization_id = first
        suppression.save(update_fields=["organization"])
        Suppression.objects.using(db).bulk_create(
            Suppression(
                organization_id=organization_id,
                address=suppression.address,
                reason=suppression.reason,
                until=suppression.until,
                created_at=suppression.created_at,
            )
            for organization_id in others
        )


def suppressions_merge(apps, schema_editor) -> None:
    Suppression = apps.get_model("threads", "Suppression")
    kept: set[str] = set()
    db = schema_editor.connection.alias
    for suppression in Suppression.objects.using(db).order_by("-until", "-pk"):
        if suppression.address in kept:
            suppression.delete()
        kept.add(suppression.address)


class Migration(migrations.Migration):
    dependencies = [
        ("threads", "0011_guarded_mail"),
        ("tisket", "0004_login_throttle"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="suppression",
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.AddField(
            model_name="suppression",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tisket.organization",
            ),
        ),
        migrations.AlterField(
            model_name="suppression",
            name="address",
            field=models.CharField(max_length=320),
        ),
        # The last step: PostgreSQL alters no table with row changes pending in the transaction.
        migrations.RunPython(suppressions_attribute, suppressions_merge, elidable=True),
    ]
