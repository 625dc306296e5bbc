"""Tax: the policy and its one writer (:mod:`.policy`), VAT numbers checked with VIES (:mod:`.vat`).

Below the inbound and the host-facing layers, above the outbound one: a recheck that changes a
decision pushes the customer.
"""
