"""Drop this process's calendar cache whenever an override or the office hours change."""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import services
from .models import CalendarOverride, OfficeHours


@receiver(post_save, sender=CalendarOverride)
@receiver(post_delete, sender=CalendarOverride)
@receiver(post_save, sender=OfficeHours)
@receiver(post_delete, sender=OfficeHours)
def _calendar_changed(**kwargs) -> None:
    services.clear_cache()
