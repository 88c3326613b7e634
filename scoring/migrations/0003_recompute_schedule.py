"""Schedule the nightly recompute (02:00) and the sweep (every minute) in
django-celery-beat, where admins can change them."""

from django.db import migrations

NIGHTLY = "Nightly score recompute"
SWEEP = "Re-queue stalled recompute chunks"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=NIGHTLY, defaults={"task": "scoring.recompute_nightly", "crontab": crontab})
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=SWEEP, defaults={"task": "scoring.recompute_sweep", "interval": every_minute})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[NIGHTLY, SWEEP]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_recompute_runs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
