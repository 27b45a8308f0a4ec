"""Check every ledger and book invariant, all read in one consistent snapshot (so
it can run beside live trading). Exit 1 with a readable report if any fails."""

import sys

from django.core.management.base import BaseCommand

from exchange.reconcile import reconcile


class Command(BaseCommand):
    help = "Check every ledger and book invariant; exit 1 if any fails."

    def handle(self, *args, **options):
        failed = 0
        for name, failures in reconcile():
            mark = "ok  " if not failures else "FAIL"
            self.stdout.write(f"{mark} {name}")
            for failure in failures[:50]:
                self.stdout.write(f"       - {failure}")
            failed += bool(failures)
        if failed:
            self.stdout.write(f"{failed} invariant(s) failed.")
            sys.exit(1)
        self.stdout.write("All invariants hold.")
