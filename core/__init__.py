"""Project-wide plumbing that no app owns (see DESIGN.md, Layout)."""
