"""Excel and Word in and out: the workbook a school fills in (export, import), the narrative
from a Word draft, and the workbook of a built report for the bureau."""
