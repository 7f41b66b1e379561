"""The linear program of DESIGN §2: a scenario's numbers (:mod:`~model.lp.scenarios`), the
sparse index tables and one block per constraint family (:mod:`~model.lp.formulation`, the
direct route), the same LP in Pyomo's algebra (:mod:`~model.lp.algebra`), which route reaches
HiGHS (:mod:`~model.lp.route`), HiGHS itself (:mod:`~model.lp.highs`, the only module that knows
it), the least-norm plan on the optimal face (:mod:`~model.lp.least_norm`) and infeasibility in
planner words (:mod:`~model.lp.explain`)."""
