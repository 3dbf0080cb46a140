from django.apps import AppConfig


class CartsConfig(AppConfig):
    name = "carts"

    def ready(self) -> None:
        from carts.receivers import merge_guest_cart_on_sign_in
        from commerce.accounts.signals import shopper_signed_in

        shopper_signed_in.connect(
            merge_guest_cart_on_sign_in, dispatch_uid="carts.merge_guest_cart_on_sign_in"
        )
