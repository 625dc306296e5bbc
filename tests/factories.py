"""factory_boy factories for the library's models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from django_payments_sync import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pw")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Customer

    owner = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.owner.email)
    name = factory.Faker("name")


class BillingInformationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.BillingInformation

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("company")
    email = factory.LazyAttribute(lambda o: o.customer.email)
    address_line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    postal_code = "10115"
    country = "DE"
    is_from_eu = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Product

    name = factory.Sequence(lambda n: f"Plan {n}")
    description = "A plan"
    metadata = factory.LazyFunction(lambda: {"seats": "5"})


class PricingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Pricing

    product = factory.SubFactory(ProductFactory)
    amount = 1500
    currency = "eur"
    interval = "month"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Subscription

    customer = factory.SubFactory(CustomerFactory)
    pricing = factory.SubFactory(PricingFactory)
    status = models.SubscriptionStatus.ACTIVE


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Order

    customer = factory.SubFactory(CustomerFactory)
    pricing = factory.SubFactory(PricingFactory)
    quantity = 1
    amount = factory.LazyAttribute(lambda o: o.pricing.amount * o.quantity)
    currency = factory.LazyAttribute(lambda o: o.pricing.currency)
