"""The published language of the supervision ledger: event types, envelope, canonical encoding.

Importing the package registers every event type in ``events.catalogue.CATALOGUE``.
"""

from events import corrections as _corrections  # noqa: F401  (registers the event types and record kinds)
from events import credit as _credit  # noqa: F401
from events import grading as _grading  # noqa: F401
from events import hazards as _hazards  # noqa: F401
from events import inspections as _inspections  # noqa: F401
from events import lifecycle as _lifecycle  # noqa: F401
from events import registration as _registration  # noqa: F401
from events import sanctions as _sanctions  # noqa: F401
from events.catalogue import CATALOGUE

__all__ = ["CATALOGUE"]
