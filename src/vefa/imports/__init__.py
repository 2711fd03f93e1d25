"""Importing customers, contact people, leads, products, orders, interactions and tickets from
CSV and XLSX files."""
