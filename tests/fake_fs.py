"""A remote-looking Beam filesystem over the local disk, for the tests of gs://-style paths."""

from __future__ import annotations

import os

from apache_beam.io.filesystem import FileMetadata, MatchResult
from apache_beam.io.localfilesystem import LocalFileSystem


class PrefixedFileSystem(LocalFileSystem):
    """A remote-looking filesystem (``ptdtest://``) over the local disk: what a gs:// or
    hdfs:// model path goes through."""

    PREFIX = "ptdtest://"

    @classmethod
    def scheme(cls):
        return "ptdtest"

    def _strip(self, path):
        return path[len(self.PREFIX):] if path.startswith(self.PREFIX) else path

    def join(self, base, *paths):
        joined = super().join(self._strip(base), *paths)
        return self.PREFIX + joined if base.startswith(self.PREFIX) else joined

    def exists(self, path):
        return super().exists(self._strip(path))

    def open(self, path, *args, **kwargs):
        return super().open(self._strip(path), *args, **kwargs)

    def match(self, patterns, limits=None):
        results = super().match([self._strip(p) for p in patterns], limits)
        return [
            # object stores list objects, not folders
            MatchResult(self.PREFIX + r.pattern, [FileMetadata(self.PREFIX + m.path, m.size_in_bytes)
                                                  for m in r.metadata_list if not os.path.isdir(m.path)])
            for r in results
        ]
