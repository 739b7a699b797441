"""Carriers: the companies that move parcels (DHL Express). Unlike a sales channel a carrier sells
nothing: RIFF asks it for rates, buys labels and reads tracking. One sub-package per carrier
(``client``, ``mapping``, ``consts``), speaking the neutral types of ``riff.carriers.contract``."""
