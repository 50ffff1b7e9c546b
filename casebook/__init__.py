"""casebook: a plain-text, git-friendly tracker for collecting overdue invoices."""

__version__ = "0.1.0"
