"""Specs: the YAML files of this folder (data dictionary, indicator registry, standards, report
outline, 附表 layouts) and the code that parses and checks them. Nothing here reads school data.
"""
