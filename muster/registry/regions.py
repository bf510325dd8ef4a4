"""Federal subjects of the reference rule pack (Russian Federation).

The 85 subjects as listed in Russian administrative usage, keyed by the two-digit
subject code used on number plates and in tax numbers (01-79, 83, 86, 87, 89, and
91/92 for Crimea and Sevastopol, whose annexation is not internationally
recognised). Populations are approximate (thousands, early 2020s). Districts are
synthetic: a count roughly proportional to population (4..60), coded "001".."NNN";
recruitment offices are seeded from them.
"""

from typing import NamedTuple


class Region(NamedTuple):
    code: str
    name_en: str
    name_ru: str
    population_k: int
    districts: int


# code, English name, Russian name, population (thousands)
_RAW = (
    ("01", "Republic of Adygea", "Республика Адыгея", 497),
    ("02", "Republic of Bashkortostan", "Республика Башкортостан", 4091),
    ("03", "Republic of Buryatia", "Республика Бурятия", 975),
    ("04", "Altai Republic", "Республика Алтай", 211),
    ("05", "Republic of Dagestan", "Республика Дагестан", 3183),
    ("06", "Republic of Ingushetia", "Республика Ингушетия", 510),
    ("07", "Kabardino-Balkar Republic", "Кабардино-Балкарская Республика", 904),
    ("08", "Republic of Kalmykia", "Республика Калмыкия", 268),
    ("09", "Karachay-Cherkess Republic", "Карачаево-Черкесская Республика", 469),
    ("10", "Republic of Karelia", "Республика Карелия", 528),
    ("11", "Komi Republic", "Республика Коми", 726),
    ("12", "Mari El Republic", "Республика Марий Эл", 673),
    ("13", "Republic of Mordovia", "Республика Мордовия", 768),
    ("14", "Sakha (Yakutia) Republic", "Республика Саха (Якутия)", 996),
    ("15", "Republic of North Ossetia-Alania", "Республика Северная Осетия — Алания", 680),
    ("16", "Republic of Tatarstan", "Республика Татарстан", 4004),
    ("17", "Tuva Republic", "Республика Тыва", 337),
    ("18", "Udmurt Republic", "Удмуртская Республика", 1453),
    ("19", "Republic of Khakassia", "Республика Хакасия", 528),
    ("20", "Chechen Republic", "Чеченская Республика", 1511),
    ("21", "Chuvash Republic", "Чувашская Республика", 1180),
    ("22", "Altai Krai", "Алтайский край", 2163),
    ("23", "Krasnodar Krai", "Краснодарский край", 5838),
    ("24", "Krasnoyarsk Krai", "Красноярский край", 2846),
    ("25", "Primorsky Krai", "Приморский край", 1845),
    ("26", "Stavropol Krai", "Ставропольский край", 2886),
    ("27", "Khabarovsk Krai", "Хабаровский край", 1284),
    ("28", "Amur Oblast", "Амурская область", 766),
    ("29", "Arkhangelsk Oblast", "Архангельская область", 978),
    ("30", "Astrakhan Oblast", "Астраханская область", 960),
    ("31", "Belgorod Oblast", "Белгородская область", 1531),
    ("32", "Bryansk Oblast", "Брянская область", 1169),
    ("33", "Vladimir Oblast", "Владимирская область", 1343),
    ("34", "Volgograd Oblast", "Волгоградская область", 2485),
    ("35", "Vologda Oblast", "Вологодская область", 1128),
    ("36", "Voronezh Oblast", "Воронежская область", 2285),
    ("37", "Ivanovo Oblast", "Ивановская область", 913),
    ("38", "Irkutsk Oblast", "Иркутская область", 2357),
    ("39", "Kaliningrad Oblast", "Калининградская область", 1029),
    ("40", "Kaluga Oblast", "Калужская область", 1070),
    ("41", "Kamchatka Krai", "Камчатский край", 289),
    ("42", "Kemerovo Oblast", "Кемеровская область", 2568),
    ("43", "Kirov Oblast", "Кировская область", 1138),
    ("44", "Kostroma Oblast", "Костромская область", 580),
    ("45", "Kurgan Oblast", "Курганская область", 776),
    ("46", "Kursk Oblast", "Курская область", 1082),
    ("47", "Leningrad Oblast", "Ленинградская область", 2000),
    ("48", "Lipetsk Oblast", "Липецкая область", 1127),
    ("49", "Magadan Oblast", "Магаданская область", 136),
    ("50", "Moscow Oblast", "Московская область", 8524),
    ("51", "Murmansk Oblast", "Мурманская область", 659),
    ("52", "Nizhny Novgorod Oblast", "Нижегородская область", 3120),
    ("53", "Novgorod Oblast", "Новгородская область", 583),
    ("54", "Novosibirsk Oblast", "Новосибирская область", 2797),
    ("55", "Omsk Oblast", "Омская область", 1858),
    ("56", "Orenburg Oblast", "Оренбургская область", 1862),
    ("57", "Oryol Oblast", "Орловская область", 713),
    ("58", "Penza Oblast", "Пензенская область", 1266),
    ("59", "Perm Krai", "Пермский край", 2532),
    ("60", "Pskov Oblast", "Псковская область", 599),
    ("61", "Rostov Oblast", "Ростовская область", 4200),
    ("62", "Ryazan Oblast", "Рязанская область", 1102),
    ("63", "Samara Oblast", "Самарская область", 3173),
    ("64", "Saratov Oblast", "Саратовская область", 2442),
    ("65", "Sakhalin Oblast", "Сахалинская область", 466),
    ("66", "Sverdlovsk Oblast", "Свердловская область", 4268),
    ("67", "Smolensk Oblast", "Смоленская область", 889),
    ("68", "Tambov Oblast", "Тамбовская область", 982),
    ("69", "Tver Oblast", "Тверская область", 1230),
    ("70", "Tomsk Oblast", "Томская область", 1062),
    ("71", "Tula Oblast", "Тульская область", 1553),
    ("72", "Tyumen Oblast", "Тюменская область", 1601),
    ("73", "Ulyanovsk Oblast", "Ульяновская область", 1196),
    ("74", "Chelyabinsk Oblast", "Челябинская область", 3431),
    ("75", "Zabaykalsky Krai", "Забайкальский край", 1004),
    ("76", "Yaroslavl Oblast", "Ярославская область", 1253),
    ("77", "Moscow", "Москва", 13010),
    ("78", "Saint Petersburg", "Санкт-Петербург", 5601),
    ("79", "Jewish Autonomous Oblast", "Еврейская автономная область", 150),
    ("83", "Nenets Autonomous Okrug", "Ненецкий автономный округ", 42),
    (
        "86",
        "Khanty-Mansi Autonomous Okrug – Yugra",
        "Ханты-Мансийский автономный округ — Югра",
        1711,
    ),
    ("87", "Chukotka Autonomous Okrug", "Чукотский автономный округ", 48),
    ("89", "Yamalo-Nenets Autonomous Okrug", "Ямало-Ненецкий автономный округ", 511),
    ("91", "Republic of Crimea", "Республика Крым", 1934),
    ("92", "Sevastopol", "Севастополь", 547),
)


def _district_count(population_k: int) -> int:
    # About one district per 100k people, never fewer than 4 nor more than 60.
    return max(4, min(60, round(population_k / 100) + 3))


REGIONS: tuple[Region, ...] = tuple(Region(code, en, ru, pop, _district_count(pop)) for code, en, ru, pop in _RAW)

BY_CODE: dict[str, Region] = {r.code: r for r in REGIONS}

# Cities of federal significance: addresses carry no region name before the city.
FEDERAL_CITIES = frozenset({"77", "78", "92"})


def districts(code: str) -> list[str]:
    """District codes of a region: "001".."NNN"."""
    return [f"{i:03d}" for i in range(1, BY_CODE[code].districts + 1)]
