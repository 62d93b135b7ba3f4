"""The client schema version this chatkit knows, readable without heavy imports.

`PRAGMA user_version` of client.db holds how many migrations were applied, so a
read-only command can tell in one cheap query whether the file is current,
needs upgrading, or was written by a newer chatkit.
"""

SCHEMA_VERSION = 2
