# zapbench study: rules (see README). Targets are listed by zapbench_targets() for rule all.


def zapbench_targets():
    """Final outputs of this study in the main job (none until its section of the config exists)."""
    if "zapbench" not in config:
        return []
    return []
