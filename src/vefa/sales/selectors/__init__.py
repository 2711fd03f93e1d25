"""Reads of the sales app, one module per area; every read takes the actor."""
