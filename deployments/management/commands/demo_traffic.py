"""manage.py demo_traffic — the demo tenants' software calling the API: a few predictions a minute each."""

from __future__ import annotations

import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from deployments.demo_traffic import Traffic, http_sender, traffic_round
from tenants.demo import demo_tokens


class Command(BaseCommand):
    help = "Send a steady trickle of predictions with the demo tenants' API tokens (run by `make run`)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The web server to call.")
        parser.add_argument("--interval", type=float, default=20.0, help="Seconds between rounds (±25%%).")
        parser.add_argument("--rounds", type=int, default=0, help="Stop after this many rounds (0: never).")

    def handle(self, *args: Any, url: str, interval: float, rounds: int, **options: Any) -> None:
        tokens = demo_tokens()
        if not tokens:
            raise CommandError("No demo API tokens: run `manage.py seed_demo` first.")
        traffic, send, rng = Traffic(tokens), http_sender(url), random.Random()
        done, last = 0, ""
        while not rounds or done < rounds:
            statuses = traffic_round(traffic, send, rng)
            line = ", ".join(f"{slug} {'/'.join(map(str, codes))}" for slug, codes in statuses.items())
            if line != last:  # a line when something changes, not one per round
                self.stdout.write(f"demo traffic: {line}")
                last = line
            done += 1
            if rounds and done >= rounds:
                break
            time.sleep(interval * rng.uniform(0.75, 1.25))
