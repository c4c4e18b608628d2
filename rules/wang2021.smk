# wang2021 study: rules (see README). Targets are listed by wang2021_targets() for rule all.


def wang2021_targets():
    """Final outputs of this study in the main job (none until its section of the config exists)."""
    if "wang2021" not in config:
        return []
    return []
