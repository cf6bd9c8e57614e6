"""Events: the taxonomy, extraction of event mentions from articles, and their reconciliation.

``extract_events(article)`` runs the whole pipeline on one article without an index; the stages
(:mod:`.classify`, :mod:`.dates`, :mod:`.places`, :mod:`.actors`, :mod:`.numbers`) can be called one
by one. Gazetteer data and the embedding model load on first use, not on import.
"""

from __future__ import annotations

from .pipeline import EventExtractor, PendingMentions, extract_events
from .taxonomy import ACLED_TYPES, GENERAL_TYPES, EventType, Taxonomy, default_taxonomy

__all__ = [
    "ACLED_TYPES",
    "GENERAL_TYPES",
    "EventExtractor",
    "EventType",
    "PendingMentions",
    "Taxonomy",
    "default_taxonomy",
    "extract_events",
]
