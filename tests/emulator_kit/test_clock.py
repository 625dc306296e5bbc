"""The emulators' shared clock: what falls due happens at its own moment, in order."""

from __future__ import annotations

from django_payments_sync.testing.emulator_kit import Clock
from django_payments_sync.testing.emulator_kit.clock import Due


def test_advance_performs_each_due_action_at_its_moment_in_order() -> None:
    clock = Clock()
    start = clock.time()
    plan = [start + 10, start + 5, start + 30]  # the last lies beyond the target
    seen: list[tuple[float, float]] = []

    def next_due() -> Due | None:
        pending = sorted(plan)
        if not pending:
            return None
        when = pending[0]

        def perform() -> None:
            plan.remove(when)
            seen.append((when, clock.time()))

        return when, perform

    end = clock.advance(20, next_due)
    assert [when for when, _ in seen] == [start + 5, start + 10]
    for when, at in seen:
        assert when <= at < when + 1  # at its moment, not at the end
    assert start + 20 <= end < start + 21
    assert plan == [start + 30]


def test_an_action_may_schedule_the_next_one() -> None:
    clock = Clock(whole_seconds=True)
    renewals: list[int] = []
    due_at = [clock.now() + 100]

    def next_due() -> Due | None:
        def renew() -> None:
            renewals.append(clock.now())
            due_at[0] += 100

        return due_at[0], renew

    clock.advance(350, next_due)
    assert [r - renewals[0] for r in renewals] == [0, 100, 200]
    assert clock.offset == int(clock.offset)  # Stripe's timestamps stay whole seconds


def test_the_clock_never_moves_back() -> None:
    clock = Clock()
    clock.move_to(clock.time() + 60)
    before = clock.offset
    clock.move_to(clock.time() - 3600)
    assert clock.offset == before
    clock.reset()
    assert clock.offset == 0
