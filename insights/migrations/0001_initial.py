"""The insights tables. The results table is created by SQL of its own on PostgreSQL (partitioned by
month, insights/partitions.py) and as a plain table elsewhere; Django's model state is the same on both."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

COLUMNS = [(f"x{n}", models.FloatField(null=True)) for n in range(1, 25)]


def results_table_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from insights.partitions import results_table_ddl

        for statement in results_table_ddl():
            schema_editor.execute(statement)
    else:
        schema_editor.create_model(apps.get_model("insights", "ResultRow"))


def results_table_drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS insights_resultrow CASCADE" if schema_editor.connection.vendor == "postgresql" else "DROP TABLE IF EXISTS insights_resultrow")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("deployments", "0010_transform_run_files"),
        ("tenants", "0004_tier_rate_limit"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="InsightSettings",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("threshold", models.FloatField(default=0.5)),
                ("column_names", models.CharField(blank=True, max_length=1000)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("tenant", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="insight_settings", to="tenants.tenant")),
                ("updated_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ResultRow",
                    fields=[
                        ("pk", models.CompositePrimaryKey("tenant", "run_month", "file", "line", blank=True, editable=False, primary_key=True, serialize=False)),
                        ("run_month", models.DateField()),
                        ("line", models.PositiveIntegerField()),
                        ("score", models.FloatField()),
                        *COLUMNS,
                        ("file", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="deployments.transformrunfile")),
                        ("run", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="deployments.transformrun")),
                        ("tenant", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="tenants.tenant")),
                    ],
                    options={
                        "indexes": [models.Index(fields=["tenant", "run", "score"], name="result_tenant_run_score")],
                    },
                ),
            ],
        ),
        migrations.RunPython(results_table_create, results_table_drop),
        migrations.CreateModel(
            name="FileResult",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("columns", models.PositiveSmallIntegerField(default=0)),
                ("rows", models.PositiveBigIntegerField(default=0)),
                ("score_sum", models.FloatField(default=0.0)),
                ("score_min", models.FloatField(null=True)),
                ("score_max", models.FloatField(null=True)),
                ("rows_above", models.PositiveBigIntegerField(default=0)),
                ("histogram", models.JSONField(default=list)),
                ("file", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="result", to="deployments.transformrunfile")),
                ("run", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="file_results", to="deployments.transformrun")),
                ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.tenant")),
            ],
            options={
                "indexes": [models.Index(fields=["tenant", "run"], name="fileresult_tenant_run")],
            },
        ),
        migrations.CreateModel(
            name="RunSummary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("columns", models.PositiveSmallIntegerField(default=0)),
                ("rows", models.PositiveBigIntegerField(default=0)),
                ("rows_malformed", models.PositiveBigIntegerField(default=0)),
                ("rows_above", models.PositiveBigIntegerField(default=0)),
                ("threshold", models.FloatField(default=0.5)),
                ("score_mean", models.FloatField(null=True)),
                ("score_min", models.FloatField(null=True)),
                ("score_max", models.FloatField(null=True)),
                ("histogram", models.JSONField(default=list)),
                ("files_loaded", models.PositiveIntegerField(default=0)),
                ("files_quarantined", models.PositiveIntegerField(default=0)),
                ("files_failed", models.PositiveIntegerField(default=0)),
                ("computed_at", models.DateTimeField(auto_now=True)),
                ("run", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="summary", to="deployments.transformrun")),
                ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.tenant")),
            ],
            options={
                "indexes": [models.Index(fields=["tenant", "run"], name="runsummary_tenant_run")],
            },
        ),
    ]
