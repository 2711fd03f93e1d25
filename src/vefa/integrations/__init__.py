"""Outbound webhooks from event rules, inbound orders from shops and point-of-sale systems,
vCard."""
