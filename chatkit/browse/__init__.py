"""Datasette on client.db and server.db: our metadata, plugin and launcher.

`datasette data/client.db` works on its own (FTS search box on messages);
`chatkit browse` adds titles, descriptions, canned queries, facets and the
secret-hiding rules of `metadata.yml` through `browse_server()`.
"""

from .launcher import BrowseServer, browse_command, browse_databases, browse_server  # noqa: F401
