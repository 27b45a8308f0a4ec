"""factory-boy factories for participants (each example gets its own)."""

import factory
from django.contrib.auth import get_user_model

from market.models import Participant, Region


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-test-123")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Participant {n}")
    is_buyer = True
    is_seller = True
    home_region = factory.LazyFunction(lambda: Region.objects.get(code="CITY-SH"))
