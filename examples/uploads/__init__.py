"""Uploads into a bucket (S3, GCS or a local directory) and served back (see app.py)."""
