"""Model invariants: provider links, cascades, swappable models and string forms."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from django_payments_sync.models import (
    ExternalCustomer,
    ExternalPricing,
    ExternalProduct,
    ExternalSubscription,
    Pricing,
    Product,
    get_customer_owner_model,
    get_pricing_model,
    get_product_model,
)
from tests.factories import (
    BillingInformationFactory,
    CustomerFactory,
    PricingFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


def test_external_id_is_unique_per_provider() -> None:
    first, second = CustomerFactory(), CustomerFactory()
    ExternalCustomer.objects.create(customer=first, provider="stripe", external_id="cus_1")
    ExternalCustomer.objects.create(customer=second, provider="locmem", external_id="cus_1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalCustomer.objects.create(customer=second, provider="stripe", external_id="cus_1")


def test_one_provider_record_per_local_row_and_provider() -> None:
    customer = CustomerFactory()
    ExternalCustomer.objects.create(customer=customer, provider="stripe", external_id="cus_1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalCustomer.objects.create(customer=customer, provider="stripe", external_id="cus_2")


def test_deleting_local_rows_deletes_their_external_rows() -> None:
    subscription = SubscriptionFactory()
    pricing = subscription.pricing
    ExternalSubscription.objects.create(
        subscription=subscription, provider="stripe", external_id="sub_1"
    )
    ExternalPricing.objects.create(pricing=pricing, provider="stripe", external_id="price_1")
    ExternalProduct.objects.create(product=pricing.product, provider="stripe", external_id="prod_1")
    ExternalCustomer.objects.create(
        customer=subscription.customer, provider="stripe", external_id="cus_1"
    )
    subscription.customer.delete()
    assert not ExternalSubscription.objects.exists()
    assert not ExternalCustomer.objects.exists()
    pricing.product.delete()
    assert not ExternalPricing.objects.exists()
    assert not ExternalProduct.objects.exists()


def test_billing_information_belongs_to_one_customer() -> None:
    info = BillingInformationFactory()
    assert info.customer.billing_information == info
    with pytest.raises(IntegrityError), transaction.atomic():
        BillingInformationFactory(customer=info.customer)


def test_pricing_validation() -> None:
    pricing = PricingFactory.build(min_quantity=5, max_quantity=2, product=PricingFactory().product)
    with pytest.raises(ValidationError) as excinfo:
        pricing.full_clean()
    assert "max_quantity" in excinfo.value.message_dict
    one_time = PricingFactory.build(interval="", trial_period_days=7, product=pricing.product)
    with pytest.raises(ValidationError) as excinfo:
        one_time.full_clean()
    assert "trial_period_days" in excinfo.value.message_dict
    bad_currency = PricingFactory.build(currency="EUR", product=pricing.product)
    with pytest.raises(ValidationError) as excinfo:
        bad_currency.full_clean()
    assert "currency" in excinfo.value.message_dict


def test_string_forms() -> None:
    pricing = PricingFactory(amount=1500, currency="eur", interval="month", product__name="Pro")
    assert str(pricing) == "Pro - 15.00 EUR / month"
    yearly = PricingFactory(
        amount=15000, interval="year", interval_count=2, product=pricing.product
    )
    assert str(yearly) == "Pro - 150.00 EUR / 2 years"
    once = PricingFactory(amount=999, interval="", product=pricing.product)
    assert str(once) == "Pro - 9.99 EUR"
    assert not once.is_recurring


def test_default_model_getters() -> None:
    from django.contrib.auth import get_user_model

    assert get_product_model() is Product
    assert get_pricing_model() is Pricing
    assert get_customer_owner_model() is get_user_model()
