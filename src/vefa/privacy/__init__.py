"""Data-subject exports and erasure (GDPR Art. 15/17/20, KVKK Art. 11) and the deletion log."""
