"""Adaptive Cards by subject, built from the services' results."""
