"""Keep the search index in step with every save and delete of an Article or Synonym."""
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from . import search
from .models import Article, Synonym


@receiver(post_save, sender=Article)
def article_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    search.index_article(instance)


@receiver(pre_delete, sender=Article)  # before the cascade removes the index row
def article_deleted(sender, instance, **kwargs):
    search.unindex_article(instance.pk)


@receiver([post_save, post_delete], sender=Synonym)
def synonym_changed(sender, instance, **kwargs):
    search.invalidate_synonyms(instance.term_list)
    search.reindex_containing(instance.term_list)
