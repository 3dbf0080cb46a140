"""Accounts' Celery tasks: e-mail sent off the request path (docs/operations.md, "E-mail").

- ``accounts.send_password_reset_mail``: one reset e-mail. Handed over through the transactional
  outbox (``commerce.celery.enqueue``), so a request never waits on SMTP and never fails because of it;
  an SMTP error is retried with growing waits (:func:`mail_retry_countdown`), and a mail that still
  fails after ``max_retries`` is kept as a failed task in the admin (Celery Results), like every other
  dead task. Its arguments carry no secret: the reset link's token is made when the mail is sent.
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task

from commerce.accounts import services

logger = logging.getLogger(__name__)

# SMTPException is an OSError; both named for the reader: refused, dropped, timed out, 4xx/5xx replies.
MAIL_ERRORS = (smtplib.SMTPException, OSError)
MAIL_MAX_RETRIES = 8  # 30 s, 1, 2, 4, 8, then 10 min apart: about 45 minutes of tries
FIRST_WAIT_SECONDS = 30
LONGEST_WAIT_SECONDS = 600  # CELERY_LONGEST_ETA_SECONDS: a longer ETA would be delivered twice


def mail_retry_countdown(retries: int) -> int:
    return min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2**retries)


@shared_task(
    bind=True,
    name="accounts.send_password_reset_mail",
    max_retries=MAIL_MAX_RETRIES,
    soft_time_limit=30,
    time_limit=45,
)
def send_password_reset_mail_task(
    self, *, user_id: int, domain: str, site_name: str, use_https: bool
) -> bool:
    def send() -> bool:
        return services.password_reset_mail_send(
            user_id=user_id, domain=domain, site_name=site_name, use_https=use_https
        )

    if self.request.is_eager:
        # The embedded run has no worker to come back later: the tries happen here, one after another.
        for attempt in range(self.max_retries):
            try:
                return send()
            except MAIL_ERRORS as exc:
                logger.warning("password reset mail: try %s failed: %r", attempt + 1, exc)
        return send()
    try:
        return send()
    except MAIL_ERRORS as exc:
        logger.warning("password reset mail: try %s failed: %r", self.request.retries + 1, exc)
        raise self.retry(exc=exc, countdown=mail_retry_countdown(self.request.retries)) from exc
