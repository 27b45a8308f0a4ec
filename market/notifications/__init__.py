"""Notifications by e-mail and signed webhook (DESIGN.md has the market's rules;
docs/notifications.md the receiver's side).

- `signing`: the webhook signature and `verify_signature`, the receiver's check;
- `addresses`: which webhook URLs are allowed (public addresses only, checked when
  saved and again, pinned, when sent: DNS may change in between);
- `services`: a participant's settings and secret, and `events_record`, which the
  apps call to record events in the outbox;
- `delivery`: one attempt of one delivery, its log and the backoff;
- `mail`: what an e-mail says.
"""
