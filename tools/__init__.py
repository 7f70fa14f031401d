"""Maintenance tools of the course: navigation, publishing and refreshing stored outputs.

Run each as a script (``python tools/navigation.py``) or as a module (``python -m
tools.navigation``); the tests import them as ``from tools import navigation``.
"""
