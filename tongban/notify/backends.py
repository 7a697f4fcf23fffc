"""Delivery backends. Each `send` either returns (a provider receipt id, possibly "") or raises
DeliveryError; the outbox decides about retries. Chosen by settings (NOTIFY_SMS_BACKEND …)."""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Message, Outbox


class DeliveryError(Exception):
    """The message did not go out this time; it will be tried again later."""


class FileSms:
    """Appends each SMS as one line to a log file (default var/sms.log): the embedded default."""

    def send(self, outbox: Outbox) -> str:
        path = Path(getattr(settings, "NOTIFY_SMS_FILE", "") or Path(settings.VAR_DIR) / "sms.log")
        path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{timezone.localtime():%Y-%m-%d %H:%M:%S}\t{outbox.recipient}\t{outbox.body}\n"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
        return ""


class ConsoleSms:
    """Prints each SMS to standard output (development)."""

    def send(self, outbox: Outbox) -> str:
        sys.stdout.write(f"[短信] {outbox.recipient}: {outbox.body}\n")
        sys.stdout.flush()
        return ""


class HttpSmsGateway:
    """POSTs JSON {"id", "phone", "content"} to NOTIFY_SMS_GATEWAY_URL with a bearer token.

    `id` is stable per outbox row, so a gateway that deduplicates on it never delivers a message
    twice even when we retry after a lost answer. Any non-2xx answer or a timeout is retried.
    """

    def send(self, outbox: Outbox) -> str:
        url = getattr(settings, "NOTIFY_SMS_GATEWAY_URL", "")
        if not url:
            raise DeliveryError("未配置短信网关地址（NOTIFY_SMS_GATEWAY_URL）。")
        payload = json.dumps({"id": f"tongban-{outbox.pk}", "phone": outbox.recipient, "content": outbox.body}, ensure_ascii=False)
        request = urllib.request.Request(url, data=payload.encode(), method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {getattr(settings, 'NOTIFY_SMS_GATEWAY_TOKEN', '')}",
        })
        timeout = float(getattr(settings, "NOTIFY_SMS_GATEWAY_TIMEOUT", 5))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
                body = response.read(4096)
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"短信网关返回 HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(f"短信网关不可达：{reason}") from exc
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            return ""
        return str(answer.get("id", ""))[:100] if isinstance(answer, dict) else ""


SMS_BACKENDS = {"file": FileSms, "console": ConsoleSms, "http": HttpSmsGateway}


def sms_backend():
    name = getattr(settings, "NOTIFY_SMS_BACKEND", "file")
    cls = SMS_BACKENDS.get(name) or import_string(name)
    return cls()


def send_sms(outbox: Outbox) -> str:
    return sms_backend().send(outbox)


def send_email(outbox: Outbox) -> str:
    backend = getattr(settings, "NOTIFY_EMAIL_BACKEND", "") or None
    try:
        connection = get_connection(backend, fail_silently=False)
        EmailMessage(outbox.subject, outbox.body, getattr(settings, "NOTIFY_EMAIL_FROM", None) or settings.DEFAULT_FROM_EMAIL,
                     [outbox.recipient], connection=connection).send()
    except Exception as exc:  # noqa: BLE001  SMTP and backend errors of every kind are retried
        raise DeliveryError(f"邮件发送失败：{exc}") from exc
    return ""


def send_site(outbox: Outbox) -> str:
    if outbox.user_id is None:
        raise DeliveryError("接收人账号已不存在。")
    message, _ = Message.objects.get_or_create(outbox=outbox, defaults=dict(
        user_id=outbox.user_id, title=outbox.subject or outbox.body[:60], body=outbox.body, case_id=outbox.case_id,
        created_at=timezone.now()))
    return str(message.pk)


SENDERS = {"sms": send_sms, "email": send_email, "site": send_site}
