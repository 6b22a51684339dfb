from __future__ import annotations

from django.apps import AppConfig


class SaasadminConfig(AppConfig):
    """The project package as an app only so that `run_stack` is a management command."""

    name = "saasadmin"
    verbose_name = "saasadmin"
