"""Search documents of conversations; who wrote last and when the client last did."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('threads', '0021_participant_address_case'),
        ('tisket', '0012_portal_company_view'),
    ]

    operations = [
        migrations.AddField(
            model_name='thread',
            name='client_replied_last',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='thread',
            name='last_inbound_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name='ThreadSearch',
            fields=[
                ('thread', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search', serialize=False, to='threads.thread')),
                ('text', models.TextField(blank=True)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tisket.organization')),
            ],
        ),
    ]
