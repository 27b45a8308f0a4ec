"""Writes of the account pages. Each runs inside the view's durable transaction."""

from django.contrib.auth.models import AbstractBaseUser

from market.models import Participant, Region


def participant_signup(
    *,
    user: AbstractBaseUser,
    display_name: str,
    is_buyer: bool,
    is_seller: bool,
    home_region: Region,
) -> Participant:
    """Save a new user (password already set) and its participant together."""
    user.save()
    participant = Participant(
        user=user,
        display_name=display_name.strip(),
        is_buyer=is_buyer,
        is_seller=is_seller,
        home_region=home_region,
    )
    participant.full_clean()
    participant.save()
    return participant


def participant_update(
    *,
    participant: Participant,
    display_name: str,
    home_region: Region,
    is_buyer: bool,
    is_seller: bool,
) -> Participant:
    participant.display_name = display_name.strip()
    participant.home_region = home_region
    participant.is_buyer, participant.is_seller = is_buyer, is_seller
    participant.full_clean()
    participant.save(
        update_fields=["display_name", "home_region", "is_buyer", "is_seller"]
    )
    return participant
