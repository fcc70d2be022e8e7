"""The office's own records: the rebuttal cases and their audit trail (``cases``), the evidence
library of the office's documents (``library``) and analysts' label corrections (``labels``).

They live in the office's SQLite file beside the accounts, not in the search engine; they use
the index only for the ``Article`` schema, its text forms and its query syntax.
"""
