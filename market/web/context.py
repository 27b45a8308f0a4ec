"""What every page shows: the regions suspended now (a banner on every page, so
no buyer or provider misses that a region cannot trade)."""

from django.db import DatabaseError
from django.utils.functional import SimpleLazyObject

from market import selectors


def suspended_regions(request) -> dict:
    # Lazy: read only by the pages that render the banner.
    return {"suspended_regions": SimpleLazyObject(_current)}


def _current() -> list:
    try:
        return selectors.regions_suspended_banner()
    except DatabaseError:  # the page that says the database is down
        return []
