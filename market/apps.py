from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketConfig(AppConfig):
    name = "market"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        from market.models import Proposal
        from market.operations import tables_publish_approved
        from market.proposals import proposal_kind_register

        proposal_kind_register(Proposal.Kind.TABLE_PUBLICATION, tables_publish_approved)
