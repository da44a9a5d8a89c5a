"""Scrape mode: raw `/metrics` pages fetched, parsed and kept as windows of samples (the rows
are built by `aitop.rows` from those windows)."""
