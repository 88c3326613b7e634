"""The court list moves down to scoring, which the score and benefits' eligibility both
read it through. Its tables keep their rows and are renamed scoring_*; the models leave
benefits' state here and scoring 0010 takes them over without touching the database."""

from django.db import migrations

TABLES = ("courtlistimport", "courtlistentry", "courtlistoverride")


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0008_court_list_snapshot_and_corrections"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name=name, table=f"scoring_{name}") for name in TABLES
            ],
            state_operations=[
                # Entries point at their import: they leave first.
                migrations.DeleteModel(name="CourtListOverride"),
                migrations.DeleteModel(name="CourtListEntry"),
                migrations.DeleteModel(name="CourtListImport"),
            ],
        ),
    ]
