"""Screens and commands that span apps: the settings pages, the navigation, the demo.

Interface code lives in the highest app it calls; what calls several apps at
once, and belongs to none of them, lives here. No app imports this package.
"""
