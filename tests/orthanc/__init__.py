"""The Orthanc peer (tools/orthanc_peer.py) and the lessons run on it."""
