"""Small helpers for the DICOMweb notebooks: connection, multipart bodies, samples, printing."""

from . import samples
from .client import DicomWeb, connect
from .http import show_body, show_request, show_response
from .multipart import decode_multipart, encode_multipart_related, read_datasets, read_frames

__all__ = ["DicomWeb", "connect", "decode_multipart", "encode_multipart_related", "read_datasets",
           "read_frames", "samples", "show_body", "show_request", "show_response"]
