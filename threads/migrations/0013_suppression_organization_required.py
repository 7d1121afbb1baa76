import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("threads", "0012_suppression_per_organization"),
    ]

    operations = [
        migrations.AlterField(
            model_name="suppression",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tisket.organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="suppression",
            constraint=models.UniqueConstraint(
                fields=("organization", "address"), name="suppression_org_address"
            ),
        ),
    ]
