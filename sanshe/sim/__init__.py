"""The simulation core: the model, the residents' arrays, the agents and one module per
mechanism, each with its own random stream. It imports only :mod:`sanshe.inputs`."""
