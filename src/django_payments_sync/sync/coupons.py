"""Pushing coupons and promotion codes, diff-based and idempotent like products and prices.

A coupon's terms are immutable at providers: a change of terms creates a new provider coupon,
moves the link to it, deletes the old one there (discounts already given run on) and pushes its
promotion codes again under the new coupon; a change of name or metadata is an update; an
unchanged row costs no write call. A promotion code's code, coupon and limits are immutable the
same way (the old one is deactivated); its ``active`` flag is an update. A deactivated or
deleted coupon is deleted at the provider, a deleted promotion code deactivated there.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save, pre_delete

from django_payments_sync.backends import BaseBackend, get_backend
from django_payments_sync.backends.types import Capability, CouponData, PromotionCodeData
from django_payments_sync.conf import payments_settings
from django_payments_sync.exceptions import ObjectNotFound, ProviderError
from django_payments_sync.models import (
    Coupon,
    ExternalCoupon,
    ExternalProduct,
    ExternalPromotionCode,
    PromotionCode,
)
from django_payments_sync.sync.rows import (
    SyncAction,
    SyncResult,
    create_link,
    link_of,
    mark_sync_error,
    mark_synced,
    move_link,
)
from django_payments_sync.sync.snapshots import digest, idempotency_key

#: CouponData's fields a provider lets change in place; any other change is a new coupon.
_COUPON_MUTABLE = ("name", "metadata")
_CODE_MUTABLE = ("active", "metadata")


def _product_ids(coupon: Coupon, backend: BaseBackend) -> tuple[str, ...]:
    """The provider ids of the products ``coupon`` applies to, pushing any not there yet."""
    from django_payments_sync.sync.catalog import sync_product

    ids = []
    for product in coupon.products.order_by("pk"):
        link = link_of(ExternalProduct, backend.provider_name, product=product)
        if link is None:
            results = sync_product(product, backend=backend)
            failed = next((r for r in results if r.error is not None), None)
            if failed is not None and failed.error is not None:
                raise failed.error
            link = link_of(ExternalProduct, backend.provider_name, product=product)
        if link is not None:
            ids.append(link.external_id)
    return tuple(ids)


def coupon_data(coupon: Coupon, backend: BaseBackend) -> CouponData:
    return CouponData(
        local_id=str(coupon.pk),
        name=coupon.name,
        duration=coupon.duration,
        percent_off=None if coupon.percent_off is None else f"{coupon.percent_off.normalize():f}",
        amount_off=coupon.amount_off,
        currency=coupon.currency if coupon.amount_off is not None else "",
        duration_in_months=coupon.duration_in_months,
        max_redemptions=coupon.max_redemptions,
        redeem_by=coupon.redeem_by,
        product_ids=_product_ids(coupon, backend),
        metadata={str(k): str(v) for k, v in (coupon.metadata or {}).items()},
    )


def _hashes(data: Any, mutable: tuple[str, ...]) -> tuple[str, str]:
    """(the whole content's hash, the immutable terms' hash), 32 hex digits each: the link's
    ``content_hash`` (64 characters) holds the two side by side."""
    values = dataclasses.asdict(data)
    values.pop("local_id", None)
    terms = {k: v for k, v in values.items() if k not in mutable}
    return digest(values)[:32], digest(terms)[:32]


def _stored(ext: Any) -> tuple[str, str]:
    """The (content, terms) hashes a link was pushed with; empty ones for no link."""
    if ext is None:
        return "", ""
    return ext.content_hash[:32], ext.content_hash[32:]


def sync_coupon(coupon: Coupon, *, backend: BaseBackend | None = None) -> list[SyncResult]:
    """Push one coupon (and, when it had to be replaced, its promotion codes); never raises a
    provider error: it is in the result and on the row (``sync_status``)."""
    backend = backend or get_backend()
    provider = backend.provider_name
    ext = link_of(ExternalCoupon, provider, coupon=coupon)
    try:
        if not coupon.active:
            if ext is not None:
                backend.delete_coupon(ext.external_id)
                ext.delete()
            mark_synced(coupon)
            action = SyncAction.DELETED if ext is not None else SyncAction.UNCHANGED
            return [SyncResult("coupon", str(coupon.pk), action)]
        data = coupon_data(coupon, backend)
        content, terms = _hashes(data, _COUPON_MUTABLE)
        stored = _stored(ext)
        results: list[SyncResult] = []
        if ext is None:
            created = backend.create_coupon(
                data, idempotency_key=idempotency_key(coupon, f"create-{_version(coupon)}", terms)
            )
            ext = create_link(ExternalCoupon, provider, created.id, content + terms, coupon=coupon)
            action = SyncAction.CREATED
        elif stored[0] == content:
            action = SyncAction.UNCHANGED
        elif stored[-1] != terms:
            old = ext.external_id
            created = backend.create_coupon(
                data, idempotency_key=idempotency_key(coupon, f"replace-{old}", terms)
            )
            move_link(ext, created.id, content + terms)
            backend.delete_coupon(old)
            action = SyncAction.UPDATED
            for code in coupon.promotion_codes.all():
                results += sync_promotion_code(code, backend=backend)
        else:
            backend.update_coupon(ext.external_id, data)
            move_link(ext, ext.external_id, content + terms)
            action = SyncAction.UPDATED
    except ProviderError as exc:
        mark_sync_error(coupon, exc)
        return [SyncResult("coupon", str(coupon.pk), SyncAction.FAILED, error=exc)]
    mark_synced(coupon)
    return [SyncResult("coupon", str(coupon.pk), action, external_id=ext.external_id), *results]


def sync_promotion_code(
    code: PromotionCode, *, backend: BaseBackend | None = None
) -> list[SyncResult]:
    """Push one promotion code (its coupon first, if that is not at the provider yet)."""
    backend = backend or get_backend()
    provider = backend.provider_name
    coupon_link = link_of(ExternalCoupon, provider, coupon=code.coupon)
    results: list[SyncResult] = []
    if coupon_link is None and code.coupon.active:
        results = sync_coupon(code.coupon, backend=backend)
        coupon_link = link_of(ExternalCoupon, provider, coupon=code.coupon)
    ext = link_of(ExternalPromotionCode, provider, promotion_code=code)
    active = code.active and code.coupon.active
    try:
        if coupon_link is None:
            # Its coupon is not at the provider (inactive, or its push failed).
            if ext is not None:
                _deactivate(backend, ext)
            if not active:
                mark_synced(code)
                return [*results, SyncResult("promotion_code", str(code.pk), SyncAction.UNCHANGED)]
            error = ObjectNotFound(f"The coupon of {code.code} is not at the provider.")
            mark_sync_error(code, error)
            failed = SyncResult("promotion_code", str(code.pk), SyncAction.FAILED, error=error)
            return [*results, failed]
        data = PromotionCodeData(
            local_id=str(code.pk),
            coupon_id=coupon_link.external_id,
            code=code.code,
            active=active,
            max_redemptions=code.max_redemptions,
            expires_at=code.expires_at,
            metadata={str(k): str(v) for k, v in (code.metadata or {}).items()},
        )
        content, terms = _hashes(data, _CODE_MUTABLE)
        stored = _stored(ext)
        if ext is None:
            created = backend.create_promotion_code(
                data, idempotency_key=idempotency_key(code, f"create-{_version(code)}", terms)
            )
            ext = create_link(
                ExternalPromotionCode,
                provider,
                created.id,
                content + terms,
                promotion_code=code,
            )
            action = SyncAction.CREATED
        elif stored[0] == content:
            action = SyncAction.UNCHANGED
        elif stored[-1] != terms:
            old = ext.external_id
            _deactivate(backend, ext)
            created = backend.create_promotion_code(
                data, idempotency_key=idempotency_key(code, f"replace-{old}", terms)
            )
            move_link(ext, created.id, content + terms)
            action = SyncAction.UPDATED
        else:
            backend.update_promotion_code(ext.external_id, active=active, metadata=data.metadata)
            move_link(ext, ext.external_id, content + terms)
            action = SyncAction.UPDATED
    except ProviderError as exc:
        mark_sync_error(code, exc)
        return [*results, SyncResult("promotion_code", str(code.pk), SyncAction.FAILED, error=exc)]
    mark_synced(code)
    return [
        *results,
        SyncResult("promotion_code", str(code.pk), action, external_id=ext.external_id),
    ]


def _version(row: Any) -> int:
    """The row's saved state, so that a retried push reuses its key and a re-created object
    (a coupon deactivated, then active again) gets a new one."""
    return int(row.updated_at.timestamp() * 1_000_000)


def _deactivate(backend: BaseBackend, ext: ExternalPromotionCode) -> None:
    # Gone at the provider: it cannot be redeemed either.
    with contextlib.suppress(ObjectNotFound):
        backend.update_promotion_code(ext.external_id, active=False)


def push_discounts(*, backend: BaseBackend | None = None) -> list[SyncResult]:
    """Push every coupon, then every promotion code (``payments.discounts.push()``)."""
    backend = backend or get_backend()
    results: list[SyncResult] = []
    for coupon in Coupon.objects.order_by("pk"):
        results += sync_coupon(coupon, backend=backend)
    for code in PromotionCode.objects.select_related("coupon").order_by("pk"):
        results += sync_promotion_code(code, backend=backend)
    return results


# --- automatic push (AUTO_SYNC) and deletions -----------------------------------------------
def _after_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    # A backend without discounts (Paddle's) has nothing to push them to: the rows stay local.
    if raw or not payments_settings.AUTO_SYNC or not get_backend().supports(Capability.DISCOUNTS):
        return
    pk = instance.pk
    if sender is Coupon:
        transaction.on_commit(lambda: _push_saved(Coupon, pk, sync_coupon))
    else:
        transaction.on_commit(lambda: _push_saved(PromotionCode, pk, sync_promotion_code))


def _push_saved(model: Any, pk: Any, push: Any) -> None:
    row = model.objects.filter(pk=pk).first()
    if row is not None:
        push(row)


def _before_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A deleted coupon is deleted at the provider, a deleted code deactivated (after commit)."""
    backend = get_backend()
    if sender is Coupon:
        ids = list(instance.external_coupons.values_list("external_id", flat=True))
        codes = list(
            ExternalPromotionCode.objects.filter(promotion_code__coupon=instance).values_list(
                "external_id", flat=True
            )
        )
    else:
        ids, codes = (
            [],
            list(instance.external_promotion_codes.values_list("external_id", flat=True)),
        )

    def archive() -> None:
        # Best effort: a code left active cannot be redeemed once its coupon is deleted.
        for external_id in codes:
            with contextlib.suppress(ProviderError):
                backend.update_promotion_code(external_id, active=False)
        for external_id in ids:
            with contextlib.suppress(ProviderError):
                backend.delete_coupon(external_id)

    transaction.on_commit(archive)


def connect() -> None:
    for model in (Coupon, PromotionCode):
        uid = f"payments_sync_discounts_{model._meta.model_name}"
        post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}_save")
        pre_delete.connect(_before_delete, sender=model, dispatch_uid=f"{uid}_delete")
