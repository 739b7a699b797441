"""Deterministic demo records for the Discogs sandbox: releases (artist, title, label, catalog number,
formats, genres, styles) built from a small fictional-but-plausible catalogue.

A release is fully determined by its id, so ``GET /releases/{id}`` answers for any positive id (Discogs
knows millions of releases; a listing may be created for any of them) and the seeded inventory uses the
same function. Artist and label names are invented; genre and style names are Discogs' own vocabulary.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from riff_sandbox.discogs.consts import FIRST_RELEASE_ID


@dataclass(frozen=True)
class Album:
    artist: str
    title: str
    label: str
    catno_prefix: str
    year: int
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    base_price_usd: int


# fmt: off
ALBUMS: tuple[Album, ...] = (
    Album("The Velvet Static", "Loaded Signals", "Harbor Lights", "HL", 1970, ("Rock",), ("Art Rock", "Psychedelic Rock"), 45),
    Album("The Velvet Static", "White Noise Heat", "Harbor Lights", "HL", 1968, ("Rock",), ("Art Rock", "Noise"), 60),
    Album("Marvin Hale", "What's Going Round", "Tamla Bright", "TB", 1971, ("Funk / Soul",), ("Soul",), 38),
    Album("Marvin Hale", "Let's Get It Started", "Tamla Bright", "TB", 1973, ("Funk / Soul",), ("Soul", "Rhythm & Blues"), 30),
    Album("Nina Crowe", "Wild Is The Night", "Philharmonic Blue", "PB", 1966, ("Jazz", "Blues"), ("Vocal", "Soul-Jazz"), 55),
    Album("Nina Crowe", "Pastel Blues Again", "Philharmonic Blue", "PB", 1965, ("Jazz",), ("Vocal",), 50),
    Album("Miles Harbor Quintet", "Kind Of Indigo", "Columbine", "CL", 1959, ("Jazz",), ("Modal", "Cool Jazz"), 120),
    Album("Miles Harbor Quintet", "Steamin' Sessions", "Prestige Point", "PP", 1961, ("Jazz",), ("Hard Bop",), 85),
    Album("Coltrane Avenue", "A Love Unbroken", "Impulse Gate", "IG", 1965, ("Jazz",), ("Free Jazz", "Modal"), 140),
    Album("Joni Mercer", "Blue Canyon", "Reprise Road", "RR", 1971, ("Rock", "Folk, World, & Country"), ("Folk Rock",), 42),
    Album("Joni Mercer", "Court And Sparkle", "Asylum Hill", "AH", 1974, ("Rock", "Jazz"), ("Folk Rock", "Jazz-Rock"), 35),
    Album("Kraftwerker", "Autobahnen", "Philips Light", "PL", 1974, ("Electronic",), ("Krautrock", "Electro"), 75),
    Album("Kraftwerker", "Trans-Europa Line", "Kling Klang Tapes", "KK", 1977, ("Electronic",), ("Synth-pop", "Electro"), 65),
    Album("Can Opener", "Tago Mago Tapes", "United Artistry", "UA", 1971, ("Rock", "Electronic"), ("Krautrock", "Experimental"), 90),
    Album("Neu Horizon", "Neu Horizon '75", "Brain Records Co", "BR", 1975, ("Rock", "Electronic"), ("Krautrock",), 80),
    Album("Fela Okoro & Africa 70", "Zombie March", "Coconut Sound", "CS", 1977, ("Jazz", "Funk / Soul"), ("Afrobeat",), 110),
    Album("Fela Okoro & Africa 70", "Expensive Shoes", "Coconut Sound", "CS", 1972, ("Funk / Soul",), ("Afrobeat",), 95),
    Album("Lee Scratch Parry", "Super Ape Returns", "Black Ark Island", "BA", 1976, ("Reggae",), ("Dub", "Roots Reggae"), 70),
    Album("King Tubbs Hi-Fi", "Dub From The Roots", "Total Sounds", "TS", 1974, ("Reggae",), ("Dub",), 65),
    Album("Aretha Frank", "Lady Soul Sessions", "Atlantic Bay", "AB", 1968, ("Funk / Soul",), ("Soul", "Gospel"), 48),
    Album("The Meters Band", "Cissy Strut Live", "Josie Street", "JS", 1969, ("Funk / Soul",), ("Funk",), 58),
    Album("Sly & The Family Rock", "There's A Riot Tonight", "Epic Lane", "EL", 1971, ("Funk / Soul",), ("Funk", "Psychedelic"), 40),
    Album("Joy Partition", "Unknown Pleasures Club", "Factory Floor", "FAC", 1979, ("Rock",), ("Post-Punk",), 85),
    Album("Joy Partition", "Closer To The Edge", "Factory Floor", "FAC", 1980, ("Rock",), ("Post-Punk", "Goth Rock"), 70),
    Album("The Smithies", "The Queen Is Dead Tired", "Rough Trade Winds", "RTW", 1986, ("Rock", "Pop"), ("Indie Rock",), 35),
    Album("Cocteau Doubles", "Heaven Or Las Vegas Nights", "4AD Hollow", "CAD", 1990, ("Rock", "Pop"), ("Dream Pop",), 55),
    Album("My Bloody Valentin", "Loveless Hours", "Creation Works", "CRE", 1991, ("Rock",), ("Shoegaze",), 95),
    Album("A Tribe Called Crest", "The Low End Theorem", "Jive Turkey", "JT", 1991, ("Hip Hop",), ("Conscious", "Jazzy Hip-Hop"), 60),
    Album("DJ Shadowless", "Endtroducing Again", "Mo' Wax Works", "MW", 1996, ("Electronic", "Hip Hop"), ("Downtempo", "Instrumental"), 75),
    Album("Madvillainous", "Madvillainy Deluxe", "Stones Throw Stones", "STS", 2004, ("Hip Hop",), ("Abstract", "Boom Bap"), 45),
    Album("Aphex Twine", "Selected Ambient Works", "Apollo Warp", "AMB", 1992, ("Electronic",), ("Ambient", "IDM"), 80),
    Album("Brian Enough", "Music For Airports Vol. 2", "EG Editions", "EGS", 1978, ("Electronic",), ("Ambient",), 50),
    Album("Daft Pink", "Homework Club", "Soma Virgin", "SV", 1997, ("Electronic",), ("House", "French House"), 70),
    Album("Basic Channeling", "Quadrant Dub", "Chain Reaction Labs", "CRL", 1994, ("Electronic",), ("Dub Techno", "Minimal"), 90),
    Album("Johnny Cashmere", "At Folsom Gate", "Columbine", "CL", 1968, ("Folk, World, & Country",), ("Country",), 40),
    Album("Dolly Parting", "Jolene Again", "RCA Victory", "RV", 1974, ("Folk, World, & Country",), ("Country",), 30),
    Album("Nick Drake Lane", "Pink Moon Rising", "Island Light", "ILPS", 1972, ("Folk, World, & Country", "Rock"), ("Folk",), 90),
    Album("Black Sabbatical", "Paranoid Android", "Vertigo Swirl", "VS", 1970, ("Rock",), ("Heavy Metal", "Hard Rock"), 110),
    Album("Led Zeppelinn", "IV Symbols", "Atlantic Bay", "AB", 1971, ("Rock",), ("Hard Rock", "Blues Rock"), 65),
    Album("The Stooges Band", "Fun House Party", "Elektra Lane", "EKS", 1970, ("Rock",), ("Garage Rock", "Punk"), 100),
    Album("Alice Coltraine", "Journey In Satchidananda Two", "Impulse Gate", "IG", 1971, ("Jazz",), ("Spiritual Jazz",), 95),
    Album("Pharoah Sands", "Karma Karma", "Impulse Gate", "IG", 1969, ("Jazz",), ("Spiritual Jazz", "Free Jazz"), 85),
    Album("Caetano Velho", "Transa Again", "Philips Light", "PL", 1972, ("Latin", "Rock"), ("MPB", "Tropicalia"), 75),
    Album("Os Mutantinhos", "A Divina Comedia", "Polydor Plaza", "PDP", 1970, ("Latin", "Rock"), ("Tropicalia", "Psychedelic Rock"), 120),
    Album("Ennio Moricone", "Spaghetti Themes", "RCA Victory", "RV", 1968, ("Stage & Screen",), ("Soundtrack", "Score"), 45),
    Album("Wendy Carlos Jr", "Switched-On Bach II", "Columbine", "CL", 1973, ("Electronic", "Classical"), ("Baroque", "Synth"), 25),
    Album("Glenn Gouldman", "Goldberg Variations 1955", "Columbine", "CL", 1956, ("Classical",), ("Baroque",), 60),
    Album("Ravi Shanker", "Sound Of The Sitar", "World Pacific Ways", "WP", 1965, ("Folk, World, & Country",), ("Hindustani",), 35),
)
# fmt: on

# (format string as the inventory shows it, Discogs format name, quantity, descriptions, price factor)
FORMATS: tuple[tuple[str, str, int, tuple[str, ...], float], ...] = (
    ("LP, Album", "Vinyl", 1, ("LP", "Album"), 1.0),
    ("LP, Album, RE", "Vinyl", 1, ("LP", "Album", "Reissue"), 0.6),
    ("LP, Album, Ltd, Col", "Vinyl", 1, ("LP", "Album", "Limited Edition", "Coloured"), 1.3),
    ("2xLP, Album, RE, 180", "Vinyl", 2, ("LP", "Album", "Reissue", "180 Gram"), 0.9),
    ('7", Single', "Vinyl", 1, ('7"', "Single", "45 RPM"), 0.3),
    ('12", EP', "Vinyl", 1, ('12"', "EP"), 0.5),
    ("CD, Album", "CD", 1, ("Album",), 0.25),
    ("CD, Album, RM", "CD", 1, ("Album", "Remastered"), 0.2),
    ("Cass, Album", "Cassette", 1, ("Album",), 0.3),
)
_FORMAT_WEIGHTS = (30, 18, 6, 8, 10, 6, 12, 5, 5)

COUNTRIES = ("US", "UK", "Germany", "France", "Japan", "Netherlands", "Italy", "Canada")


@dataclass(frozen=True)
class Release:
    id: int
    album: Album
    format_text: str
    format_name: str
    format_qty: int
    format_descriptions: tuple[str, ...]
    price_factor: float
    year: int
    country: str
    catalog_number: str
    have: int
    want: int

    @property
    def description(self) -> str:
        return f"{self.album.artist} - {self.album.title} ({self.format_text})"


@functools.lru_cache(maxsize=20_000)
def release(release_id: int) -> Release:
    """The release with this id (any positive id): the same answer every time."""
    rng = random.Random(f"discogs-release:{release_id}")
    album = (
        ALBUMS[(release_id - FIRST_RELEASE_ID) % len(ALBUMS)]
        if release_id >= FIRST_RELEASE_ID
        else (rng.choice(ALBUMS))
    )
    fmt_text, fmt_name, qty, descriptions, factor = rng.choices(FORMATS, weights=_FORMAT_WEIGHTS)[0]
    reissue = "Reissue" in descriptions or "Remastered" in descriptions or fmt_name in ("CD",)
    year = album.year + (rng.randint(8, 45) if reissue else 0)
    if fmt_name == "CD":
        year = max(year, 1984)
    have = rng.randint(40, 9000)
    return Release(
        id=release_id,
        album=album,
        format_text=fmt_text,
        format_name=fmt_name,
        format_qty=qty,
        format_descriptions=descriptions,
        price_factor=factor,
        year=year,
        country=rng.choice(COUNTRIES),
        catalog_number=f"{album.catno_prefix} {rng.randint(100, 9999)}",
        have=have,
        want=max(1, int(have * rng.uniform(0.05, 1.4))),
    )


def release_ids(rng: random.Random, count: int) -> list[int]:
    """``count`` release ids for the seeded inventory: mostly distinct, a few duplicates (a shop often
    has two copies of one pressing)."""
    span = max(count * 3, len(ALBUMS) * 4)
    ids = [FIRST_RELEASE_ID + rng.randrange(span) for _ in range(count)]
    return ids
