"""The customer list's reads at scale: a trait's current value page by page, and text search
driven by a trigram index (``repository``)."""
