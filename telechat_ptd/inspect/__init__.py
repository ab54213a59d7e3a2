"""`ptd inspect`: statistics and reports over TeleChat-PTD shards."""
