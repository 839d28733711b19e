"""The floor of bench/bench_api.py: a bare Django + DRF token auth + django-fsm-2 app that makes the
same row writes per transition as the cases API (lock the case row, update it, append a
hash-chained event, write an outbox row, in one transaction) and nothing else: no scope, no
rules, no clocks, no serializers beyond the state. Served by the same server as the real app.
"""
