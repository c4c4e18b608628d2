# lfads study: rules (see README). Targets are listed by lfads_targets() for rule all.


def lfads_targets():
    """Final outputs of this study in the main job (none until its section of the config exists)."""
    if "lfads" not in config:
        return []
    return []
