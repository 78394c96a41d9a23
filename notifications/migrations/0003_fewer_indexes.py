# Every delivery changes a notification's status twice (claimed, sent) and writes a dev gateway
# row; each index of those tables takes an entry each time. The ones dropped here served no query.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Django's name for the user foreign key's own index (the inbox index leads with the user).
USER_INDEX = "notifications_notification_user_id_b5e8c0ff"


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_reference_and_limits'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Only the index goes: an AlterField would also drop and re-add (and re-check over every
        # row) the foreign key constraint, which does not change.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='notification',
                    name='user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{USER_INDEX}"',
                    reverse_sql=f'CREATE INDEX "{USER_INDEX}" ON "notifications_notification" ("user_id")',
                ),
            ],
        ),
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_sweep_idx',
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('status', 'sent'), _negated=True), fields=['status', 'created_at'], name='notification_sweep_idx'),
        ),
        # unique=True and db_index=True each built a second, LIKE-prefix index on PostgreSQL.
        migrations.AlterField(
            model_name='devsms',
            name='message_id',
            field=models.CharField(max_length=40),
        ),
        migrations.AlterField(
            model_name='devsms',
            name='reference',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddConstraint(
            model_name='devsms',
            constraint=models.UniqueConstraint(fields=('message_id',), name='devsms_message_id_unique'),
        ),
        migrations.AddIndex(
            model_name='devsms',
            index=models.Index(fields=['reference'], name='devsms_reference_idx'),
        ),
    ]
