# HolidayOverride now belongs to workdays (workdays 0001 took over the table): state only.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("workflows", "0004_personal_data_access"), ("workdays", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="HolidayOverride")],
            database_operations=[],
        ),
    ]
