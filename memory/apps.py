from django.apps import AppConfig


class MemoryConfig(AppConfig):
    name = "memory"
    verbose_name = "Shopper memory"

    def ready(self) -> None:
        self._connect_carts()
        self._connect_orders()
        self._connect_catalog()

    def _connect_catalog(self) -> None:
        """Views feed interests (catalog's ``product_viewed``); the recommended order is memory's ranking."""
        from catalog.ranking import ranking_register
        from catalog.signals import product_viewed
        from memory import receivers
        from memory.ranking import MemoryRanking

        product_viewed.connect(receivers.on_product_viewed, dispatch_uid="memory.product_viewed")
        ranking_register(MemoryRanking())

    def _connect_carts(self) -> None:
        from django.db.models.signals import post_save

        from memory import receivers

        post_save.connect(
            receivers.on_cart_line_saved, sender="carts.CartLine", dispatch_uid="memory.cart_line_saved"
        )

    def _connect_orders(self) -> None:
        """Purchases come from orders' ``order_placed``, sent once an order is committed."""
        from memory import receivers
        from orders.signals import order_placed

        order_placed.connect(receivers.on_order_placed, dispatch_uid="memory.order_placed")
