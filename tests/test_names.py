from neurodyn.data.celegans.names import canonicalize, neurons_302, strip_zero_padding


def test_302_sorted_with_can():
    names = neurons_302()
    assert len(names) == 302 == len(set(names))
    assert list(names) == sorted(names)
    assert {"CANL", "CANR", "AVAL", "VB1"} <= set(names)
    assert names.index("AS10") < names.index("AS2")  # plain lexicographic order


def test_zero_padding():
    assert strip_zero_padding("VB01") == "VB1"
    assert strip_zero_padding("DA09") == "DA9"
    assert strip_zero_padding("DD10") == "DD10"
    assert strip_zero_padding("AVAL") == "AVAL"


def test_canonicalize_rules():
    m = canonicalize(["AVAL", "12", "VB02", "AVAL", "", None, "merge", "FOO", "RIM?"])
    assert m.names == ("AVAL", "VB2")
    assert m.columns == (0, 2)  # the first AVAL wins
    assert m.n_recorded == 9
    assert m.unknown == ("FOO", "RIM?")


def test_lr_completion_takes_first_free_side():
    m = canonicalize(["AVA", "AVA", "AVA?", "RMED"], complete_lr=True)
    assert m.names == ("AVAL", "AVAR", "RMED")
    assert m.columns == (0, 1, 3)
    assert m.unknown == ()
