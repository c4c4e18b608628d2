# autolfads study: rules (see README). Targets are listed by autolfads_targets() for rule all.


def autolfads_targets():
    """Final outputs of this study in the main job (none until its section of the config exists)."""
    if "autolfads" not in config:
        return []
    return []
