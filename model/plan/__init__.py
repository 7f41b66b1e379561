"""A solved plan as tables (pure functions, no files): the plan's sheets
(:mod:`~model.plan.results`), marginal values (:mod:`~model.plan.marginals`), the Overview
(:mod:`~model.plan.overview`) and the post-solve check that recomputes every family from the
tables written (:mod:`~model.plan.check`)."""
