"""The reference list of recruitment offices: every district of every region is covered."""

from .regions import REGIONS, districts

DISTRICTS_PER_OFFICE = 4


def reference_offices():
    """(code, name, name_ru, region, [districts]) for the reference list."""
    for region in REGIONS:
        ds = districts(region.code)
        for k, start in enumerate(range(0, len(ds), DISTRICTS_PER_OFFICE), 1):
            yield (
                f"{region.code}-{k:02d}",
                f"Military commissariat of {region.name_en}, office {k}",
                f"Военный комиссариат: {region.name_ru}, отдел № {k}",
                region.code,
                ds[start : start + DISTRICTS_PER_OFFICE],
            )
