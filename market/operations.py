"""What operators do to the catalogue and the people: grant roles, flag the network
operator, move a participant to another login, revoke API keys, verify clusters, and
propose a table publication (four-eyes). Each runs inside the caller's transaction
(the admin action or command opens it), locks the rows it changes and writes its
audit row there.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from market import services
from market.apikeys import apikey_revoke
from market.audit import audit_record, snapshot
from market.exceptions import MarketError
from market.models import ApiKey, Certification, Cluster, Participant, Proposal
from market.models.participants import certifications_text
from market.proposals import proposal_create

ROLES = ("is_buyer", "is_seller")


def operator_named(
    username: str | None, *, permission: str, may: str, demo: str = "admin"
):
    """The active staff login a management command acts for: `username`, or in the
    demo (YIWANG_DEMO) the demo's operator; MarketError unless it holds
    `permission` ("app_label.codename"), which lets it do what `may` says."""
    if username is None:
        if not settings.YIWANG_DEMO:
            raise MarketError("--operator is required outside the demo.")
        username = demo
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not (user.is_active and user.is_staff):
        raise MarketError(f"{username} is not an active staff login.")
    if not user.has_perm(permission):
        raise MarketError(f"{username} may not {may}.")
    return user


def participants_for_update(ids: list[int]) -> list[Participant]:
    """Lock the participants' rows in primary-key order."""
    return list(
        Participant.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    )


def participant_roles_set(
    *,
    participant_id: int,
    operator: AbstractBaseUser,
    reason: str,
    buyer: bool | None = None,
    seller: bool | None = None,
) -> Participant:
    """Grant or revoke the buyer and seller roles (None leaves one as it is)."""
    [participant] = participants_for_update([participant_id])
    before = snapshot(participant, ROLES)
    if buyer is not None:
        participant.is_buyer = buyer
    if seller is not None:
        participant.is_seller = seller
    after = snapshot(participant, ROLES)
    if after != before:
        participant.save(update_fields=list(ROLES))
        audit_record(
            operator=operator,
            action="participant.roles",
            target=participant,
            before=before,
            after=after,
            reason=reason,
        )
    return participant


def participant_network_operator_set(
    *, participant_id: int, operator: AbstractBaseUser, reason: str
) -> Participant:
    """Flag the one participant that receives network payouts, unflagging the one
    flagged before (both rows locked, in primary-key order)."""
    current = Participant.objects.filter(is_network_operator=True).values_list(
        "pk", flat=True
    )
    locked = participants_for_update([participant_id, *current])
    chosen = next(p for p in locked if p.pk == participant_id)
    # Unflag first: at most one participant is flagged (a unique constraint).
    for participant in sorted(locked, key=lambda p: p is chosen):
        flag = participant is chosen
        if participant.is_network_operator == flag:
            continue
        participant.is_network_operator = flag
        participant.save(update_fields=["is_network_operator"])
        audit_record(
            operator=operator,
            action="participant.network_operator",
            target=participant,
            before={"is_network_operator": not flag},
            after={"is_network_operator": flag},
            reason=reason,
        )
    return chosen


def participant_login_reassign(
    *, participant_id: int, username: str, operator: AbstractBaseUser, reason: str
) -> Participant:
    """Move a participant (and so its balances) to another login: an active login
    that is not staff, owns no participant, and is not the operator's own."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not user.is_active:
        raise MarketError(f"No active login {username}.")
    if user.is_staff or user.pk == operator.pk:
        raise MarketError("A participant cannot be moved to a staff login.")
    if Participant.objects.filter(user=user).exists():
        raise MarketError(f"{username} already has a participant.")
    [participant] = participants_for_update([participant_id])
    before = {"user_id": participant.user_id, "username": participant.user.username}
    participant.user = user
    participant.save(update_fields=["user"])
    audit_record(
        operator=operator,
        action="participant.login",
        target=participant,
        before=before,
        after={"user_id": user.pk, "username": user.username},
        reason=reason,
    )
    return participant


def apikey_revoke_by_operator(
    *, key_id: int, operator: AbstractBaseUser, reason: str
) -> ApiKey:
    """Revoke a (compromised) key of any user; revoking a revoked key changes
    nothing and writes no row."""
    api_key = ApiKey.objects.select_for_update().select_related("user").get(pk=key_id)
    if api_key.revoked_at is not None:
        return api_key
    revoked = apikey_revoke(user=api_key.user, key_id=api_key.pk)
    audit_record(
        operator=operator,
        action="apikey.revoke",
        target=revoked,
        before={"revoked_at": None},
        after={"revoked_at": revoked.revoked_at},
        reason=reason,
    )
    return revoked


VERIFIED = (
    "verified_at",
    "verified_count",
    "verified_confidential",
    "verified_certifications",
)


def cluster_verify(
    *,
    cluster_id: int,
    operator: AbstractBaseUser,
    reason: str,
    now: datetime,
    confidential: bool | None = None,
    certifications: list[str] | None = None,
) -> Cluster:
    """Record an operator's check of a cluster: its region, chip and count (it may
    sell from now on), and its attributes as checked: `confidential` and
    `certifications` as given, or as declared where not given. Sells placed from
    now on carry them; resting sells keep what they were placed with."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
    if certifications is not None:
        unknown = sorted(set(certifications) - set(Certification.values))
        if unknown:
            raise MarketError(f"Unknown certifications: {', '.join(unknown)}.")
    before = snapshot(cluster, VERIFIED)
    cluster.verified_at = now
    cluster.verified_count = cluster.count
    cluster.verified_confidential = (
        cluster.confidential if confidential is None else confidential
    )
    cluster.verified_certifications = (
        cluster.certifications
        if certifications is None
        else certifications_text(certifications)
    )
    cluster.save(update_fields=list(VERIFIED))
    audit_record(
        operator=operator,
        action="cluster.verify",
        target=cluster,
        before=before,
        after=snapshot(cluster, VERIFIED),
        reason=reason,
    )
    return cluster


def tables_publication_propose(
    *,
    operator: AbstractBaseUser,
    reason: str,
    now: datetime,
    notes: str = "",
    surcharges: bool = False,
) -> Proposal:
    """Propose publishing a new conversion table (and, with `surcharges`, surcharge
    tables) from the catalogue; a second operator's approval publishes them."""
    what = "conversion table" + (" and surcharge tables" if surcharges else "")
    return proposal_create(
        kind=Proposal.Kind.TABLE_PUBLICATION,
        target="tables",
        summary=f"publish a new {what}",
        payload={"notes": notes, "surcharges": surcharges},
        reason=reason,
        proposed_by=operator,
        now=now,
    )


def tables_publish_approved(
    proposal: Proposal, approver: AbstractBaseUser, now: datetime
) -> dict:
    """Carry out an approved table publication (registered in MarketConfig)."""
    notes = proposal.payload.get("notes") or ""
    table = services.conversion_table_publish(
        effective_at=now,
        published_by=approver,
        notes=f"{notes} (proposal #{proposal.pk})".strip(),
    )
    after: dict[str, object] = {
        "version": table.version,
        "factors": table.factors.count(),
    }
    if proposal.payload.get("surcharges"):
        tables = services.surcharge_tables_publish(
            effective_at=now, published_by=approver
        )
        after["surcharge_tables"] = {t.profile.code: t.version for t in tables}
    audit_record(
        operator=approver,
        action="conversiontable.publish",
        target=table,
        after=after,
        reason=proposal.reason,
        proposal=proposal,
    )
    return after
