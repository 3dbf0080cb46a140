"""``manage.py voice_recovery_scan``: one abandoned-cart scan and the jobs due now, in this process.

What beat does on its schedule and the admin's "Scan and process now" button does, but at once and without a
worker (CONTRACT.md, Operations). The scheduler switch does not apply: running it by hand is the point.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from voice import services
from voice.selectors import voice_config
from voice.tasks import simulator_callbacks_wait


class Command(BaseCommand):
    help = "Scan for abandoned carts once and process the recovery jobs that are due now."

    def handle(self, *args, **options) -> None:
        config = voice_config()
        if config.kill_switch:
            self.stdout.write(
                self.style.WARNING("The kill switch is on: pending jobs are cancelled, nothing dials.")
            )
        scan = services.recovery_scan(config=config)
        self.stdout.write(f"scan: {scan.created} new job(s), {scan.cancelled} cancelled")
        attempt_ids = services.process_due_jobs()
        for attempt_id in attempt_ids:
            attempt = services.attempt_dial(attempt_id=attempt_id)
            line = (
                f"attempt {attempt.number} of job {attempt.job_id} via {attempt.provider}: {attempt.status}"
            )
            if attempt.error:
                line += f" ({attempt.error})"
            self.stdout.write(line)
        if simulator_callbacks_wait():
            self.stdout.write("simulator callbacks delivered")
        report = services.alerts_evaluate(config=config)
        self.stdout.write(
            f"due jobs: {len(attempt_ids)} call(s) placed; backlog {report.backlog}, "
            f"failure ratio {report.failure_ratio}"
        )
        for kind in report.raised:
            self.stdout.write(self.style.WARNING(f"alert raised: {kind}"))
