"""What people see: card specs and builders (pure), form schemas, printable documents.

Imports no other project package.
"""
