"""Reports on top of the register: the monthly leadership workbook and the register export.

This package reads through ``inventory`` and writes spreadsheets; the core never imports it.
"""
