from django.apps import AppConfig


class HomeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "home"

    def ready(self):
        from wagtail.signals import page_published, page_unpublished

        from .models import HomePage, renew_kept_home_pages

        page_published.connect(renew_kept_home_pages, sender=HomePage, dispatch_uid="home-kept-published")
        page_unpublished.connect(renew_kept_home_pages, sender=HomePage, dispatch_uid="home-kept-unpublished")
