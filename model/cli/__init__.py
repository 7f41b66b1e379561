"""The ``ree-plan`` command: the parser and signal handling (:mod:`~model.cli.main`), the
commands that read, run a study, write and report (:mod:`~model.cli.commands`), exit codes and
JSON (:mod:`~model.cli.console`), and the benchmark (:mod:`~model.cli.bench`)."""
