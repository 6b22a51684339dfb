"""Drop `invocation_timeout_seconds` from asynchronous deployments' settings.

It was never sent to AWS: InvocationTimeoutSeconds is a parameter of each InvokeEndpointAsync request,
not of the endpoint config, so it is no longer an endpoint setting (deployments.rules says where it went).
Without this, the detail page and plans would keep showing a value that does nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

KEY = "invocation_timeout_seconds"


def drop_invocation_timeout(apps: Any, schema_editor: Any) -> None:
    Deployment = apps.get_model("deployments", "Deployment")  # noqa: N806 - Django's migration idiom
    for deployment in Deployment.objects.filter(kind="async", settings__has_key=KEY).only("settings"):
        deployment.settings.pop(KEY, None)
        deployment.save(update_fields=["settings"])


class Migration(migrations.Migration):
    dependencies = [("deployments", "0001_initial")]

    operations = [migrations.RunPython(drop_invocation_timeout, migrations.RunPython.noop)]
