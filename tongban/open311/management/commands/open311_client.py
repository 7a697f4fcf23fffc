"""`tongban open311_client add|list|reissue|disable|enable` — manage Open311 API clients and keys."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tongban.open311.models import ApiClient


class Command(BaseCommand):
    help = "管理 Open311 接入应用及其 api_key（密钥只保存摘要，签发时显示一次）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        add = sub.add_parser("add", help="新增接入应用并签发 api_key")
        add.add_argument("name", help="应用名称，例如“FixMyStreet 青溪”")
        add.add_argument("--contact", default="", help="联系人或联系方式")
        sub.add_parser("list", help="列出接入应用")
        for op, text in (("reissue", "重新签发 api_key（旧密钥立即失效）"), ("disable", "停用"), ("enable", "启用")):
            sub.add_parser(op, help=text).add_argument("name", help="应用名称")

    def handle(self, *args, op, **options):
        if op == "add":
            try:
                client, key = ApiClient.issue(options["name"], contact=options["contact"])
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from exc
            self.stdout.write(f"已新增接入应用“{client.name}”。api_key（只显示这一次）：\n{key}")
            return
        if op == "list":
            for c in ApiClient.objects.order_by("name"):
                used = timezone.localtime(c.last_used_at).strftime("%Y-%m-%d %H:%M") if c.last_used_at else "从未使用"
                self.stdout.write(f"{c.name}\t{c.prefix}…\t{'启用' if c.active else '停用'}\t最近使用：{used}")
            return
        client = ApiClient.objects.filter(name=options["name"]).first()
        if client is None:
            raise CommandError(f"没有名为“{options['name']}”的接入应用。用 `tongban open311_client list` 查看。")
        if op == "reissue":
            key = client.set_key()
            client.save(update_fields=["key_hash", "prefix"])
            self.stdout.write(f"已为“{client.name}”重新签发 api_key（只显示这一次，旧密钥已失效）：\n{key}")
        else:
            client.active = op == "enable"
            client.save(update_fields=["active"])
            self.stdout.write(f"已{'启用' if client.active else '停用'}“{client.name}”。")
