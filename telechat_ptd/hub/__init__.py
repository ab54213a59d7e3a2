"""The Hugging Face hub: fetching TeleChat-PTD shards."""
