"""Identity reads of many people at once (``repository``)."""
