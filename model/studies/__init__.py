"""What is solved, in what order: the baseline plan (:mod:`~model.studies.baseline`), the choice
among equally cheap plans (:mod:`~model.studies.choose`), the stress test
(:mod:`~model.studies.stress`), the hedge (:mod:`~model.studies.hedge`) and the frontier
(:mod:`~model.studies.frontier`)."""
