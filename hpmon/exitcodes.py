"""Exit codes of ``hpmon crawl`` and ``hpmon ingest`` (docs/cli.md), in a module light enough for
the service to import. Click itself exits 1 on an error it reports (a bad setting, an unknown
source, a path that is not a file) and 2 on a usage error."""

EXIT_OK = 0
EXIT_FAILED = 3  # crawl: every source failed; ingest: at least one input failed
EXIT_NO_NETWORK = 4  # crawl: not one source host resolves (checked before crawling)
