"""Up to when each member has read each conversation."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('threads', '0022_thread_search'),
        ('tickets', '0014_ticket_categories'),
        ('tisket', '0012_portal_company_view'),
    ]

    operations = [
        migrations.CreateModel(
            name='ThreadRead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('read_at', models.DateTimeField()),
                ('membership', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tisket.membership')),
                ('thread', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='threads.thread')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('membership', 'thread'), name='thread_read_unique')],
            },
        ),
    ]
