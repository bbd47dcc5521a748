"""Accounts and roles: admin (superuser), data engineer, annotator."""
