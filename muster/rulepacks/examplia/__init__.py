"""A second, small rule pack: the fictional Republic of Examplia (three grounds).

It exists to prove that the engine holds no assumption of the reference law: other ages,
other citizenship, and its own features query. Select it with MUSTER_RULEPACK=examplia.
"""
