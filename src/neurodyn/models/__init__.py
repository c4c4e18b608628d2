"""Neural-network models used by two or more studies (each study keeps its own models)."""
