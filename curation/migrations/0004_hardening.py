# Job hardening (issue 8): parsed recipe cache, counters, "planning" status, output reservation, reaper index.

from django.conf import settings
from django.db import migrations, models
from django.db.models import Sum


def fill_counters(apps, schema_editor):
    """Give existing jobs the counters that shard_complete now keeps (summed once, here)."""
    Job = apps.get_model("curation", "Job")
    Shard = apps.get_model("curation", "Shard")
    for job in Job.objects.all().iterator():
        done = Shard.objects.filter(job=job, status="done")
        maps = done.filter(kind="map")
        job.units_done = done.count()
        job.docs_read = maps.filter(stage=0).aggregate(n=Sum("docs_in"))["n"] or 0
        job.docs_kept = maps.filter(stage=job.stage_count - 2).aggregate(n=Sum("docs_kept"))["n"] or 0
        job.docs_removed = maps.aggregate(n=Sum("docs_removed"))["n"] or 0
        job.save(update_fields=["units_done", "docs_read", "docs_kept", "docs_removed"])


class Migration(migrations.Migration):

    dependencies = [
        ('curation', '0003_jobschedule_last_error_jobschedule_last_fired_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='job',
            name='docs_kept',
            field=models.PositiveBigIntegerField(default=0, help_text='documents the last map stage kept'),
        ),
        migrations.AddField(
            model_name='job',
            name='docs_read',
            field=models.PositiveBigIntegerField(default=0, help_text='documents read from the inputs'),
        ),
        migrations.AddField(
            model_name='job',
            name='docs_removed',
            field=models.PositiveBigIntegerField(default=0, help_text='documents removed by any step'),
        ),
        migrations.AddField(
            model_name='job',
            name='recipe_plan',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='job',
            name='units_done',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='job',
            name='status',
            field=models.CharField(choices=[('planning', 'Planning'), ('pending', 'Pending'), ('running', 'Running'), ('completed', 'Completed'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='pending', max_length=16),
        ),
        migrations.AddField(
            model_name='job',
            name='published_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_counters, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='shard',
            index=models.Index(fields=['status', 'enqueued_at'], name='shard_status_enqueued'),
        ),
        migrations.AddConstraint(
            model_name='job',
            constraint=models.UniqueConstraint(condition=models.Q(models.Q(('status__in', ['completed', 'failed', 'cancelled']), _negated=True), models.Q(('output', ''), _negated=True)), fields=('output',), name='unique_output_of_unfinished_job'),
        ),
    ]
