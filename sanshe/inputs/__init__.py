"""Inputs: the scenario schema and files, behavioural constants, outcome definitions, input
checks. The lowest layer: it imports nothing else of sanshe."""
