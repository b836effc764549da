"""reorg: simulate the reorganisation of Vietnam's grassroots health network after the 2025 reform."""

__version__ = "0.1.0"
