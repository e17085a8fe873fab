"""Experiments: the one run engine and its executors, the results store, designs, and what
runs many simulations — compare, sweep, sensitivity, calibration, validation, optimize,
discovery. It imports the core, the inputs and the reporting toolkit."""
