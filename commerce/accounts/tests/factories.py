import factory

from commerce.accounts.models import ShopperSession, User

PASSWORD = "SecurePass123!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ShopperSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShopperSession

    channel = ShopperSession.Channel.API
