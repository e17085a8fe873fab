"""Interfaces: the command line, the workshop dashboard and the notebook display hook."""
