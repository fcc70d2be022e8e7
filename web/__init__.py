"""The analysts' web app (see issue 8)."""
