"""State: the SQLite store (sqlite-utils) of what skyplan has created: resources, serial and lineage, lock, journal of every action, backups and named schema migrations. Knows nothing of HCL."""
