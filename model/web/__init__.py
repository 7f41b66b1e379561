"""``ree-plan serve`` (DESIGN §6): the planner's page and its JSON API.

:mod:`model.web.uploads` takes a workbook in (size limits, what a workbook is),
:mod:`model.web.runs` runs the commands in worker processes (queue, cancel, time to live),
:mod:`model.web.overview` reads a written plan back as a page, :mod:`model.web.app` is the
server (pages, API, sign-in, client cookies) and :mod:`model.web.serve` starts it.
"""
