"""Step 1 of reading a reply: the member's own words, with every quoted message removed.

`known` finds the ballot's own text wherever it is quoted; `shapes` finds quote starts by
their shape in any language; `quote` walks the lines; `htmltext` reads HTML parts without
their quote containers (the clients' markers are data: `clients.toml`).
"""
