"""Classifiers: term matching, lexicons, topic, sentiment and sensitive-theme models."""
