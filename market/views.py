"""Public catalogue pages: chips with their conversion factors, the regions map, and
"should I move west?". Thin: parse the query string, read through market.pages (which
reads through selectors), render."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from market import pages


@require_safe
def chip_catalogue(request):
    return render(
        request, "market/chips.html", pages.chip_catalogue_context(request.GET)
    )


@require_safe
def regions(request):
    return render(request, "market/regions.html", pages.regions_context())


@require_safe
def move_west(request):
    """The whole page, or only the result table when htmx asks for it (a history
    restore after a cache miss needs the whole page again)."""
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    context = {**pages.move_west_context(request.GET), "partial": partial}
    template = "market/_move_west_result.html" if partial else "market/move_west.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
