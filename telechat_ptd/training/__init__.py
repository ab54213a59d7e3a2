"""From TeleChat-PTD shards to training data: tokenizer, packing, curriculum mixing."""
