"""Beat marks four-eyes proposals past their 24 hours expired, without an operator
opening the proposals' admin page; pending ones within their time stay pending."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from config.celery import app as celery_app
from market.models import Proposal
from market.proposals import proposal_create
from market.tasks import proposals_expire_due

pytestmark = pytest.mark.django_db


def propose(operator, target: str, *, hours_ago: float) -> Proposal:
    return proposal_create(
        kind=Proposal.Kind.TABLE_PUBLICATION,
        target=target,
        summary=f"publish {target}",
        payload={"table": target},
        reason="new benchmark results",
        proposed_by=operator,
        now=timezone.now() - timedelta(hours=hours_ago),
    )


def test_the_task_marks_expired_proposals_and_leaves_pending_ones():
    operator = get_user_model().objects.create_user("op", is_staff=True)
    propose(operator, "table:1", hours_ago=25)
    propose(operator, "table:2", hours_ago=1)
    rejected = propose(operator, "table:3", hours_ago=30)
    Proposal.objects.filter(pk=rejected.pk).update(status=Proposal.Status.REJECTED)

    assert proposals_expire_due.delay().get() == 1

    statuses = dict(Proposal.objects.values_list("target", "status"))
    assert statuses == {
        "table:1": Proposal.Status.EXPIRED,
        "table:2": Proposal.Status.PENDING,
        "table:3": Proposal.Status.REJECTED,  # a decided proposal is left as it is
    }
    assert proposals_expire_due() == 0  # idempotent


def test_beat_runs_it_every_minute():
    schedule = celery_app.conf.beat_schedule
    [entry] = [e for e in schedule.values() if e["task"].endswith("expire_due")]
    assert entry["task"] == proposals_expire_due.name
    assert entry["schedule"] <= 60
