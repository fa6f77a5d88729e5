"""Pandera schemas for every raw feed and published product, run as Dagster asset checks."""
