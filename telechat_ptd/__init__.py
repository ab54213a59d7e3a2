"""telechat-ptd: clean raw Chinese and English text into TeleChat-PTD shards on Apache Beam."""

__version__ = "0.1.0"
