"""Stop reading an oversized file while it is still arriving.

Django would otherwise spool a 2 GB "photo" to a temporary file before any view code could refuse
it. This handler counts each file's bytes as they stream in and skips the file once it passes the
limit; the view then reports it by name like any other refusal.
"""
from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from applications.uploads import display_name, upload_max_bytes


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.limit = upload_max_bytes()
        self.received = 0
        self.skipped: list[str] = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.skipped.append(display_name(self.file_name))
            raise SkipFile()
        return raw_data  # pass the chunk on to Django's own handlers

    def file_complete(self, file_size):
        return None  # the next handler builds the UploadedFile
