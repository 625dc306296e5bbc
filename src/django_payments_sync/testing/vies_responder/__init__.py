"""A local stand-in for VIES: real SOAP over real HTTP, for tests and the offline demo.

Start it in a test (or use the ``vies_responder`` pytest fixture)::

    with VIESResponder() as vies:
        ...  # PAYMENTS_SYNC["VIES"]["ADDRESS"] = vies.url

or from a shell: ``python -m django_payments_sync.testing.vies_responder --port 8081``.

What it answers depends on the number asked about:

* The EU test service's numbering, for any country code (the number without prefix):
  ``100`` valid (with a trader name and address), ``200`` invalid, and the faults
  ``201`` INVALID_INPUT, ``202`` INVALID_REQUESTER_INFO, ``300`` SERVICE_UNAVAILABLE,
  ``301`` MS_UNAVAILABLE, ``302`` TIMEOUT, ``400`` VAT_BLOCKED, ``401`` IP_BLOCKED,
  ``500``/``501`` GLOBAL_MAX_CONCURRENT_REQ(_TIME), ``600``/``601``
  MS_MAX_CONCURRENT_REQ(_TIME). These do not pass the offline checks, so only
  ``check_vat`` (which skips them) reaches the responder with them.
* Our own misbehaviours: ``900`` an HTML 503 page (what a proxy in front of VIES sends),
  ``901`` a 200 whose body is not XML, ``902`` a 200 whose body is XML but not SOAP,
  ``903`` a valid answer sent after :attr:`VIESResponder.slow_delay` seconds, ``904`` a
  valid answer carrying an element the WSDL does not describe (VIES adding a field one day).
* Real-looking numbers, which pass python-stdnum's check digits and therefore go all the way
  through ``validate_vat`` (see :data:`KNOWN_NUMBERS`): valid traders in several member
  states, one unavailable member state and one blocked number. They are made up; what the
  real VIES says about them is unrelated.
* Any other number: invalid, like VIES for a number nobody registered.

``checkVatApprox`` is answered too, with a consultation number (``requestIdentifier``) when
the request names the requester's own VAT number. :meth:`VIESResponder.force` answers every
request with one behaviour (an outage); :attr:`VIESResponder.delay` slows every answer;
:attr:`VIESResponder.requests` lists what was received. Needs no Django.
"""

from __future__ import annotations

from django_payments_sync.testing.vies_responder.server import VIESResponder, main
from django_payments_sync.testing.vies_responder.soap import (
    FAULT_CODES,
    KNOWN_NUMBERS,
    MISBEHAVIOURS,
    TEST_NUMBERS,
    Answer,
    ReceivedRequest,
)

__all__ = [
    "FAULT_CODES",
    "KNOWN_NUMBERS",
    "MISBEHAVIOURS",
    "TEST_NUMBERS",
    "Answer",
    "ReceivedRequest",
    "VIESResponder",
    "main",
]
