"""Data quality: the instant duplicate check while a customer or lead is typed in, and the
data-quality page (missing key fields, invalid e-mails and phones, stale records, duplicate
share, trend over time)."""
