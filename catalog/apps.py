from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog.models import Category, Product, StorefrontSettings, Variant
        from catalog.services import catalog_listing_changed, variant_summary_changed

        # Model signals rather than calls in each service: admin saves, the import and the shell all
        # change what the listing's cached facets, category tree and home page words show.
        for model in (Category, Product, Variant, StorefrontSettings):
            for signal in (post_save, post_delete):
                signal.connect(
                    catalog_listing_changed,
                    sender=model,
                    dispatch_uid=f"catalog.listing_changed.{signal is post_save}.{model.__name__}",
                )
        # The same for the product's summary of its variants; bulk writers (the import, stock changes)
        # call catalog.services.product_summaries_refresh / product_stock_refresh themselves.
        for signal in (post_save, post_delete):
            signal.connect(
                variant_summary_changed,
                sender=Variant,
                dispatch_uid=f"catalog.variant_summary_changed.{signal is post_save}",
            )
