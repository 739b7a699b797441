"""Records (vinyl, CDs, tapes) as first-class products: a typed extension of ``products``."""
