"""The outbound side: the host's rows pushed to the provider, and the account they live in.

- :mod:`.snapshots`: a local row as the provider should hold it, its hash, its idempotency key;
- :mod:`.ownership`: who owns which field (the table every pusher and handler reads);
- :mod:`.customers`, :mod:`.catalog`, :mod:`.subscriptions`: pushing one customer (with its
  billing information and tax ids), product with its prices, or subscription change;
- :mod:`.rows`: what those share (results, a row's sync state and link), deletions that stick;
- :mod:`.push`: ``push_all`` over every row, and ``diff`` against the provider;
- :mod:`.autosync`: pushing saves and deletes after commit (``AUTO_SYNC``);
- :mod:`.accounts`: the installation id and the provider account every link belongs to.

``payments_sync reconcile`` (:mod:`django_payments_sync.interactor.reconcile`) repairs drift
on top of these, applying the provider's side through the same rules.
"""
