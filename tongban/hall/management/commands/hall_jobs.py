from django.core.management.base import BaseCommand

from tongban.hall.tasks import deferral_jobs


class Command(BaseCommand):
    help = "容缺受理：发送到期的补齐提醒，并将逾期未补齐的办件转入补正（生产环境由 Celery beat 定时执行）"

    def handle(self, *args, **options):
        r = deferral_jobs()
        self.stdout.write(f"已发送提醒 {r['sent']} 条，待消息服务发送 {r['waiting']} 条，转补正 {r['lapsed']} 件。")
