"""The outbound side: the host's rows pushed to the provider, and the account they live in.

- :mod:`.snapshots`: a local row as the provider should hold it, its hash, its idempotency key;
- :mod:`.ownership`: who owns which field (the table every pusher and handler reads);
- :mod:`.rows`: pushing one customer, product, price or subscription; deletions that stick;
- :mod:`.push`: ``push_all`` over every row, and ``diff`` against the provider;
- :mod:`.autosync`: pushing saves and deletes after commit (``AUTO_SYNC``);
- :mod:`.accounts`: the installation id and the provider account every link belongs to.

``payments_sync reconcile`` (:mod:`django_payments_sync.interactor.reconcile`) repairs drift
on top of these, applying the provider's side through the same rules.
"""
