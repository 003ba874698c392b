"""User-facing labels, one module per language (``en``, ``vi``), same keys in each."""
