"""The only writers of plan workbooks: :mod:`~model.excel.report` (sheets, formats, charts,
written atomically) and :mod:`~model.excel.sheetrows` (a table's rows streamed as XML)."""
