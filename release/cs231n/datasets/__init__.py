"""Data set download helpers; the data itself is unpacked next to this file."""
