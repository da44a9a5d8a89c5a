"""The terminal UI — the only package that imports Textual.

Import `aitop.ui.app` lazily (it pulls in Textual); this package itself imports nothing.
"""
