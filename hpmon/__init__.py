"""hpmon: media monitoring for the foreign-information office of Hải Phòng."""

__version__ = "0.1.0"
