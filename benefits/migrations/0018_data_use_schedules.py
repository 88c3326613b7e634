"""Schedule the weekly data-use digest (Mondays 08:00) and the daily reminder of partner
authorisations that end within a week (django-celery-beat, editable in the admin)."""

from django.db import migrations

DIGEST = "Weekly data-use digest"
REMINDER = "Remind of partner authorisations ending soon (daily)"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    mondays, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="8", day_of_week="1", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="9", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=DIGEST, defaults={"task": "benefits.data_use_digests_create", "crontab": mondays}
    )
    PeriodicTask.objects.get_or_create(
        name=REMINDER,
        defaults={"task": "benefits.authorizations_expiring_remind", "crontab": daily},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[DIGEST, REMINDER]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0017_authorisation_expiry_reminder"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
