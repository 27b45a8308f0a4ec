"""Who may see a private page: a logged-in user who is a participant, and only their
own rows. Everything else is a 404, so a page never hints that someone else's order,
key or trade exists."""

import functools

from django.contrib.auth.decorators import login_required
from django.http import Http404

from market.models import Participant


def participant_of(request) -> Participant | None:
    """The logged-in user's participant (its home region joined), or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    cached = getattr(request, "_participant", False)
    if cached is False:
        cached = (
            Participant.objects.select_related("home_region", "user")
            .filter(user=user)
            .first()
        )
        request._participant = cached
    return cached


def participant_required(view):
    """Log-in required; then the user must be a participant (else 404). The view
    receives it as `participant`."""

    @functools.wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        participant = participant_of(request)
        if participant is None:
            raise Http404("Not a participant.")
        return view(request, *args, participant=participant, **kwargs)

    return wrapper
