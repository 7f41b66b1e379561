"""Reading a planner's workbook: sheet specifications as data and typed cells
(:mod:`~model.input.workbook`), the cross-sheet checks that make :class:`~model.input.data.PlanData`
or report every problem at its ``Sheet!Cell`` (:mod:`~model.input.validate`,
:mod:`~model.input.issues`), and the template and example workbooks
(:mod:`~model.input.template`). The only stage that reads files."""
