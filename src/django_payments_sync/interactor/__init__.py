"""The provider-neutral business layer: the PaymentInteractor facade and its services."""
