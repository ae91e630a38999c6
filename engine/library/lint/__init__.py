"""Checking BPMN files, and the forms their user tasks show, before anything is deployed (see checker.py)."""
