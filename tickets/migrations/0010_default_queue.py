from django.db import migrations, models


def default_queues(apps, schema_editor):
    """Every organization gets its default queue: its oldest queue, or a new one."""
    Organization = apps.get_model("tisket", "Organization")
    Queue = apps.get_model("tickets", "Queue")
    db = schema_editor.connection.alias  # the database migrated, which may not be the default
    for organization in Organization.objects.using(db).iterator():
        queues = Queue.objects.using(db).filter(organization=organization)
        oldest = queues.order_by("created_at", "id").first()
        if oldest is not None:
            queues.filter(pk=oldest.pk).update(is_default=True)
        else:
            Queue.objects.using(db).create(
                organization=organization, name="General", is_default=True
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_client_views"),
        ("tisket", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="queue",
            name="is_default",
            field=models.BooleanField(
                default=False,
                help_text="New conversations of inboxes that feed no other queue open their tickets here.",
            ),
        ),
        migrations.AddConstraint(
            model_name="queue",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_default", True)),
                fields=("organization",),
                name="queue_one_default",
            ),
        ),
        migrations.RunPython(default_queues, migrations.RunPython.noop),
    ]
