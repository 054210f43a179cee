"""The regional summary (``nianbao summary``): every school's figures of a year side by side.

- :mod:`.keys`: which indicators, totals and pooled ratios it shows;
- :mod:`.collect`: each school's validated year → one tidy DataFrame (school × indicator);
- :mod:`.stats`: pure pandas: totals, medians and quartiles, 达标 counts, outliers;
- :mod:`.charts` and :mod:`.api`: the tables and charts the summary notebooks show.

A school that does not report a figure is counted as missing, never as 0.
"""
