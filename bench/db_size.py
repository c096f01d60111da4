#!/usr/bin/env python3
"""db_size.py DB: "pages_in_use page_size processes" of a lineage history,
through a read-only connection (so pages still in the WAL count). Used by
record_bench.sh and auditd_size.sh for bytes per recorded process."""
import sqlite3
import sys

c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
q = lambda s: c.execute(s).fetchone()[0]
print(q("PRAGMA page_count") - q("PRAGMA freelist_count"), q("PRAGMA page_size"), q("SELECT count(*) FROM processes"))
