"""The soak is a program (`make soak`), not tests: pytest collects nothing here."""

collect_ignore_glob = ["*"]
