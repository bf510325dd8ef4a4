"""The golden record's attributes, in the order of the population feed (SPEC section 4).

No Django imports, so that feeds, pages and benchmark programs share this one list."""

ATTRIBUTES = (
    "national_id",
    "tax_id",
    "surname",
    "given_name",
    "patronymic",
    "sex",
    "birth_date",
    "citizenship",
    "region",
    "district",
    "address",
    "postcode",
    "phone",
    "email",
    "death_date",
)
