# HolidayOverride moves here from workflows with its table (workflows_holidayoverride) and rows: on
# an existing database this only changes Django's state; workflows 0005 drops it from workflows' state.
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("workflows", "0004_personal_data_access")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="HolidayOverride",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("date", models.DateField(unique=True, verbose_name="日期")),
                        (
                            "is_workday",
                            models.BooleanField(help_text="调休上班选是；法定节假日选否。", verbose_name="是否工作日"),
                        ),
                        ("note", models.CharField(blank=True, max_length=64, verbose_name="说明")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                    ],
                    options={
                        "verbose_name": "节假日调整",
                        "verbose_name_plural": "节假日调整",
                        "ordering": ["date"],
                        "db_table": "workflows_holidayoverride",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
