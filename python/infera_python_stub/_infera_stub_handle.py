"""The running stub (set once by ``stub.py``), through which pb_utils and its service modules
reach the server. A module of its own so that they need not import each other."""

current = None
