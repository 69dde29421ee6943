"""Fake outside services for tests and for trying Phopy by hand."""
