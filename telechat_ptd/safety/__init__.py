"""Safety filters: sensitive-word lexicons and URL/domain blocklists (pure core, no Beam).

Kept apart from the rule families because their data (lexicons, blocklists) is large, comes
from outside the project, and is loaded once per worker rather than compiled into rules.
"""
