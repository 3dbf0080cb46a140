from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog.models import Category, Product, StorefrontSettings, Variant
        from catalog.services import catalog_listing_changed

        # Model signals rather than calls in each service: admin saves, the import and the shell all
        # change what the listing's cached facets, category tree and home page words show.
        for model in (Category, Product, Variant, StorefrontSettings):
            for signal in (post_save, post_delete):
                signal.connect(
                    catalog_listing_changed,
                    sender=model,
                    dispatch_uid=f"catalog.listing_changed.{signal is post_save}.{model.__name__}",
                )
