"""Neural-network models, one module per study (``scaling``: Simeon et al. 2024 model zoo)."""
