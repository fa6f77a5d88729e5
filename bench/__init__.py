"""`make bench`: finsync against the floor (plain DuckDB SQL) and the naive way (pandas).

Each contender runs in a process of its own, so that its wall time and peak memory
(the process and its children, such as dbt) are its own; see `bench.__main__`.
"""
