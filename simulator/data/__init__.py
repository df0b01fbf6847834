"""Deterministic data generation for the simulated Jira site."""
