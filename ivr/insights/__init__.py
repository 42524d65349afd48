"""What the people who run the line see: how many callers help themselves, and where the rest get stuck.

rollup.py keeps the aggregates (the worker rolls each ended call into daily rows, once); figures.py
reads them for a period; the supervisors' page (ivr/agents/insights.py) and /agent/api/insights
show the same figures.
"""
