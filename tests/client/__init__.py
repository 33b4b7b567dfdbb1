"""Tests of helpers/, the client module the lessons import (no server internals)."""
