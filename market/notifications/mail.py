"""What a notification e-mail says, in the active language (the sender switches
to the language its owner saved the settings in)."""

from django.utils.translation import gettext as _

from market.models import Notification

T = Notification.Type


def subject_of(notification: Notification) -> str:
    d = notification.payload
    if notification.type == T.FILL:
        return _(
            "Fill: %(side)s %(quantity)s SCU-h of %(instrument)s at %(price)s CNY"
        ) % {
            "side": _("bought") if d.get("side") == "buy" else _("sold"),
            "quantity": d.get("quantity"),
            "instrument": d.get("instrument"),
            "price": d.get("all_in_price")
            if d.get("side") == "buy"
            else d.get("price"),
        }
    texts = {
        T.REPORT_DUE: _("Delivery report due for trade %(trade)s by %(deadline)s"),
        T.REPORTED: _(
            "Delivery reported for trade %(trade)s: confirm or dispute by %(deadline)s"
        ),
        T.DISPUTED: _("Trade %(trade)s is disputed"),
        T.RESOLVED: _(
            "Dispute on trade %(trade)s resolved: %(delivered)s SCU-h delivered"
        ),
        T.SETTLED: _(
            "Trade %(trade)s settled: %(delivered)s of %(quantity)s SCU-h delivered"
        ),
    }
    return texts[T(notification.type)] % {
        "trade": d.get("trade_id"),
        "deadline": d.get("deadline"),
        "delivered": d.get("delivered_quantity"),
        "quantity": d.get("quantity"),
    }


def render(notification: Notification) -> tuple[str, str]:
    subject = "[Yiwang] " + subject_of(notification)
    lines = [subject_of(notification), ""]
    lines += [f"{key}: {value}" for key, value in sorted(notification.payload.items())]
    lines += [
        "",
        _("Event id: %(id)s") % {"id": notification.event_id},
        _(
            "You receive this because you turned on e-mail notifications in your "
            "Yiwang account; change them under Notifications."
        ),
    ]
    return subject, "\n".join(lines)
