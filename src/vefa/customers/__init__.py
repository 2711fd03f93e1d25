"""The customer database: customers, relationships, addresses, contact points, consent, leads."""
