"""The demo county's customers as its loan book reads them: one numpy array per attribute, customer i at index
i − 1 (their ids run from 1), taken from the Customer columns already planned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from demo.county import GridPlan
from demo.people import Bools, Dates, Floats, Ints, Objects
from demo.writer import Columns


@dataclass(frozen=True)
class Clientele:
    customer_id: Ints
    household: Ints  # household id
    village: Ints  # village index into grid.villages
    township: Ints  # township index into grid.townships
    manager: Ints  # staff id of the customer manager of their village
    head: Bools
    birth: Dates
    deposit: Floats  # yuan
    ebanking: Bools
    tags: Objects  # ",种植户,务工,"
    name: Objects
    id_number: Objects
    lon: Floats
    lat: Floats

    @classmethod
    def of(cls, customers: Columns, grid: GridPlan) -> Clientele:
        village_index = {village.id: index for index, village in enumerate(grid.villages)}
        village = np.array([village_index[v] for v in customers["village_id"]], dtype=np.int64)
        return cls(
            customer_id=np.array(customers["id"], dtype=np.int64),
            household=np.array(customers["household_id"], dtype=np.int64),
            village=village,
            township=grid.village_township[village],
            manager=np.array(customers["manager_id"], dtype=np.int64),
            head=np.array(customers["is_household_head"], dtype=bool),
            birth=np.array(customers["birth_date"], dtype="datetime64[D]"),
            deposit=np.array([float(d) for d in customers["deposit_balance"]]),
            ebanking=np.array(customers["has_ebanking"], dtype=bool),
            tags=np.array(customers["tags"], dtype=object),
            name=np.array(customers["name"], dtype=object),
            id_number=np.array(customers["id_number"], dtype=object),
            lon=np.array(customers["lon"], dtype=np.float64),
            lat=np.array(customers["lat"], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.customer_id)

    def tagged(self, tag: str) -> Bools:
        found: Bools = np.char.find(self.tags.astype(str), f",{tag},") >= 0
        return found

    def age_on(self, day: date | Dates, who: Ints | None = None) -> Ints:
        """Whole years of age of everyone on a day, or of the customers `who` (indexes) each on their own day.
        (Birthdays are compared by day of the year: a leap year may move one by a day.)"""
        birth = self.birth if who is None else self.birth[who]
        on = np.asarray(day, dtype="datetime64[D]")
        years = on.astype("datetime64[Y]").astype(np.int64) - birth.astype("datetime64[Y]").astype(np.int64)
        birthday = birth - birth.astype("datetime64[Y]").astype("datetime64[D]")
        day_of_year = on - on.astype("datetime64[Y]").astype("datetime64[D]")
        age: Ints = years - (day_of_year < birthday)
        return age
