"""Users, teams, roles, record-level access and API tokens."""
